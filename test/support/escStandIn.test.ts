/**
 * The ESC stand-in itself: its wire behaviour, status by status, as the service's specs describe
 * it; then proven with a client nobody here wrote, the real Pulumi CLI (`pulumi login`, and the
 * `pulumi env` commands init, set, get, open, version history, rotate and schedule), rotating a
 * real PostgreSQL pair through the bundled connector Lambda.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type * as HandlerModule from "../../provider/connector/lambdaHandler";
import { credentialsEnvironmentYaml, rotatorEnvironmentYaml } from "../../provider/esc/documents";
import { ensurePulumiCli } from "../../scripts/pulumiStack";
import {
  ESC_TOKEN,
  serviceTime,
  startEscStandIn,
  STANDIN_USER,
  type EscStandIn,
  type ScheduledAction,
  type SecretRotationEvent,
} from "./escStandIn";
import { expectNoSecrets, rejection } from "./secrets";
import { cluster, SUPPORTED_MAJORS, type TestCluster } from "./servers";

const BUNDLE = path.join(__dirname, "..", "..", "dist", "lambda", "index.js");

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

describe("ESC stand-in: the service's wire behaviour", () => {
  let api: EscStandIn;
  let counter = 0;
  before(async () => {
    api = await startEscStandIn();
    api.connector = async () => ({ code: 200, message: "ok" });
  });
  after(() => api?.close());

  async function call(
    method: string,
    route: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const response = await fetch(`${api.url}${route}`, {
      method,
      headers: { authorization: `token ${ESC_TOKEN}`, ...headers },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed };
  }
  const env = (name: string, rest = "") => `/api/esc/environments/acme/wire/${name}${rest}`;
  async function created(yaml?: string): Promise<string> {
    counter += 1;
    const name = `env-${counter}`;
    await call("POST", "/api/esc/environments/acme", JSON.stringify({ project: "wire", name }));
    if (yaml !== undefined) api.write(`acme/wire/${name}`, yaml);
    return name;
  }
  const rotator = [
    "values:",
    "  creds:",
    "    managingUser: {username: manager, password: {fn::secret: manager-pw-123456}}",
    "  dbRotator:",
    "    fn::rotate::postgres:",
    "      inputs:",
    "        database:",
    "          host: 127.0.0.1",
    "          port: 5432",
    "          database: app",
    "          managingUser: {username: manager, password: {fn::secret: manager-pw-123456}}",
    "        rotateUsers: {username1: u1, username2: u2}",
    "",
  ].join("\n");

  it("refuses a request without `Authorization: token <token>` (401)", async () => {
    const answer = await fetch(`${api.url}${env("any")}`, {
      headers: { authorization: `Bearer ${ESC_TOKEN}` },
    });
    expect(answer.status).to.equal(401);
    expect(await answer.json()).to.have.property("code", 401);
  });

  it("beforeRequest makes it answer a chosen error instead, as the service failing would", async () => {
    const name = await created("values:\n  a: 1\n");
    const seen: string[] = [];
    api.beforeRequest = (method, path) => {
      seen.push(`${method} ${path}`);
      return method === "GET" ? { status: 500, message: "injected" } : undefined;
    };
    try {
      const failed = await call("GET", env(name));
      expect([failed.status, failed.body]).to.deep.equal([500, { code: 500, message: "injected" }]);
      const patched = await call("PATCH", env(name), "values:\n  a: 2\n");
      expect(patched.status).to.equal(200);
    } finally {
      api.beforeRequest = undefined;
    }
    expect(seen).to.deep.equal([
      `GET /api/esc/environments/acme/wire/${name}`,
      `PATCH /api/esc/environments/acme/wire/${name}`,
    ]);
    expect((await call("GET", env(name))).text).to.equal("values:\n  a: 2\n");
  });

  it("echoRequest answers before authorization with an error quoting the request as sent", async () => {
    const name = await created("values:\n  a: 1\n");
    api.echoRequest = (method) => (method === "PATCH" ? 401 : undefined);
    try {
      const refused = await call("PATCH", env(name), "values:\n  b: 2\n", { "x-probe": "p1" });
      expect(refused.status).to.equal(401);
      expect(refused.body.code).to.equal(401);
      const message = String(refused.body.message);
      expect(message).to.include(`PATCH ${env(name)}`);
      expect(message).to.include(`"authorization","token ${ESC_TOKEN}"`);
      expect(message).to.include(`"x-probe","p1"`);
      expect(message).to.match(/values:\n {2}b: 2\n$/);
      const wrongToken = await fetch(`${api.url}${env(name)}`, {
        method: "PATCH",
        headers: { authorization: "token pul-other-0000" },
        body: "values: {}\n",
      });
      expect(((await wrongToken.json()) as { message: string }).message).to.include(
        "token pul-other-0000",
      );
      expect((await call("GET", env(name))).status).to.equal(200);
    } finally {
      api.echoRequest = undefined;
    }
    expect((await call("GET", env(name))).text).to.equal("values:\n  a: 1\n");
  });

  it("create and delete answer 204 without a body; a second create is 409", async () => {
    const create = () =>
      call("POST", "/api/esc/environments/acme", JSON.stringify({ project: "wire", name: "x" }));
    const first = await create();
    expect([first.status, first.text]).to.deep.equal([204, ""]);
    expect((await create()).body).to.deep.include({ code: 409 });
    const deleted = await call("DELETE", env("x"));
    expect([deleted.status, deleted.text]).to.deep.equal([204, ""]);
    expect((await call("GET", env("x"))).status).to.equal(404);
  });

  it("GET and PATCH carry `ETag` and `Pulumi-ESC-Revision`; a stale `ETag` or `If-Match` is 409", async () => {
    const name = await created();
    const read = await call("GET", env(name));
    expect(read.status).to.equal(200);
    expect(read.headers.get("pulumi-esc-revision")).to.equal("1");
    const etag = read.headers.get("etag")!;
    expect(etag).to.match(/^".+"$/);

    // The CLI sends YAML as application/json, with If-Match; esc-sdk sends an ETag header.
    const patched = await call("PATCH", env(name), "values:\n  a: 1\n", {
      "content-type": "application/json",
      "if-match": etag,
    });
    expect(patched.status).to.equal(200);
    expect(patched.headers.get("pulumi-esc-revision")).to.equal("2");
    const newEtag = patched.headers.get("etag")!;
    expect(newEtag).to.not.equal(etag);
    expect((await call("GET", env(name))).headers.get("etag")).to.equal(newEtag);

    for (const header of ["etag", "if-match"]) {
      const stale = await call("PATCH", env(name), "values:\n  a: 2\n", { [header]: etag });
      expect(stale.status, header).to.equal(409);
      expect(stale.body).to.have.property("code", 409);
    }
    expect(api.stored(`acme/wire/${name}`)).to.include("a: 1");
    const invalid = await call("PATCH", env(name), "values: [unclosed\n", { "if-match": newEtag });
    expect(invalid.status).to.equal(400);
    expect(invalid.body.diagnostics).to.have.length.above(0);
  });

  it("lists revisions newest first, strictly before `before`, and serves each one", async () => {
    const name = await created("values:\n  a: 1\n");
    api.write(`acme/wire/${name}`, "values:\n  a: 2\n");
    const all = await call("GET", env(name, "/versions?before=0&count=500"));
    expect(all.body.map((r: { number: number }) => r.number)).to.deep.equal([3, 2, 1]);
    expect(all.body[0]).to.include({ creatorLogin: STANDIN_USER }).and.have.property("tags");
    expect(all.body[0].tags).to.deep.equal(["latest"]);
    expect((await call("GET", env(name, "/versions?before=2"))).body).to.have.length(1);
    expect((await call("GET", env(name, "/versions?before=1"))).body).to.deep.equal([]);
    const second = await call("GET", env(name, "/versions/2"));
    expect(second.text).to.include("a: 1");
    expect(second.headers.get("pulumi-esc-revision")).to.equal("2");
  });

  it("rotate answers 200 with the event, `Paths` accepted as the CLI spells it", async () => {
    const name = await created(rotator);
    const answer = await call(
      "POST",
      env(name, "/rotate"),
      JSON.stringify({ Paths: ["dbRotator"] }),
    );
    expect(answer.status).to.equal(200);
    const event = answer.body.secretRotationEvent as SecretRotationEvent;
    expect(answer.body.id).to.equal(event.id);
    expect(event).to.include({
      status: "succeeded",
      preRotationRevision: 2,
      postRotationRevision: 3,
    });
    expect(event).to.include.keys("id", "environmentId", "created", "userID", "rotations");
    expect(event.rotations).to.have.length(1);
    expect(event.rotations[0]).to.include({ environmentPath: "dbRotator", status: "succeeded" });
    expect(api.stored(`acme/wire/${name}`)).to.include("state:");
    const history = await call("GET", env(name, "/rotate/history"));
    expect(history.body.events.map((e: { id: string }) => e.id)).to.deep.equal([event.id]);
  });

  it("a failed rotation is a failed status in a normal 200 reply, and writes nothing", async () => {
    const name = await created(rotator);
    const working = api.connector;
    api.connector = async () => ({ code: 400, message: "password authentication failed" });
    const answer = await call("POST", env(name, "/rotate"), JSON.stringify({ paths: [] }));
    expect(answer.status).to.equal(200);
    const event = answer.body.secretRotationEvent as SecretRotationEvent;
    expect(event.status).to.equal("failed");
    expect(event.errorMessage).to.be.a("string");
    expect(event).to.not.have.property("postRotationRevision");
    expect(event.rotations[0]).to.deep.include({
      environmentPath: "dbRotator",
      status: "failed",
      errorMessage: "password authentication failed",
    });
    expect(api.revisions(`acme/wire/${name}`)).to.have.length(2);
    // The helper the other tests use turns that reply into an error naming why.
    const error = await rejection(api.rotate(`acme/wire/${name}`)).finally(
      () => (api.connector = working),
    );
    expect(error.message).to.include("rotation failed").and.include("password authentication");
  });

  it("rotate: 400 with diagnostics for a path that is no rotator, 403 when the feature is off", async () => {
    const name = await created(rotator);
    const bad = await call("POST", env(name, "/rotate"), JSON.stringify({ Paths: ["creds"] }));
    expect(bad.status).to.equal(400);
    expect(bad.body).to.have.property("code", 400);
    expect(bad.body.diagnostics[0].summary).to.include("creds");
    api.rotationDisabled.add("acme");
    const off = await call("POST", env(name, "/rotate"), "{}").finally(() =>
      api.rotationDisabled.delete("acme"),
    );
    expect(off.status).to.equal(403);
    expect(off.body.message).to.match(/not enabled/);
  });

  describe("schedules", () => {
    const body = (schedule: Record<string, unknown>) =>
      JSON.stringify({ ...schedule, secretRotationRequest: { environmentPath: "" } });

    it("creates one ScheduledAction per environment, times as the service writes them", async () => {
      const name = await created(rotator);
      const answer = await call(
        "POST",
        env(name, "/schedules"),
        body({ scheduleCron: "30 4 * * *" }),
      );
      expect(answer.status).to.equal(200);
      const action = answer.body as ScheduledAction;
      expect(action).to.include.keys(
        "id",
        "orgID",
        "kind",
        "paused",
        "created",
        "modified",
        "lastExecuted",
        "nextExecution",
        "definition",
      );
      expect(action).to.include({ kind: "environment_rotation", paused: false, lastExecuted: "" });
      expect(action.scheduleCron).to.equal("30 4 * * *");
      expect(action).to.not.have.property("scheduleOnce");
      expect(action.created).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
      expect(action.nextExecution).to.match(/ 04:30:00\.000$/);
      const next = new Date(action.nextExecution.replace(" ", "T") + "Z").getTime();
      expect(next - Date.now()).to.be.within(0, 24 * 3600_000);
      expect(action.definition).to.deep.include({ environmentPath: "" });

      const second = await call(
        "POST",
        env(name, "/schedules"),
        body({ scheduleCron: "0 5 * * *" }),
      );
      expect(second.status).to.equal(409);
      const listed = await call("GET", env(name, "/schedules"));
      expect(listed.body).to.deep.equal({ schedules: [action] });
      expect((await call("GET", env(name, `/schedules/${action.id}`))).body).to.deep.equal(action);
    });

    it("refuses with 400: both or neither of cron and once, no request, bad cron, once not ahead", async () => {
      const name = await created(rotator);
      const past = new Date(Date.now() - 60_000).toISOString();
      const cases: [string, string][] = [
        ["both", body({ scheduleCron: "0 3 * * *", scheduleOnce: "2099-01-01T00:00:00Z" })],
        ["neither", body({})],
        ["no secretRotationRequest", JSON.stringify({ scheduleCron: "0 3 * * *" })],
        ["six fields", body({ scheduleCron: "0 0 3 * * *" })],
        ["hourly", body({ scheduleCron: "0 * * * *" })],
        ["twice a day", body({ scheduleCron: "0 3,15 * * *" })],
        ["past", body({ scheduleOnce: past })],
        ["not a date", body({ scheduleOnce: "tomorrow" })],
      ];
      for (const [what, request] of cases) {
        const answer = await call("POST", env(name, "/schedules"), request);
        expect(answer.status, what).to.equal(400);
        expect(answer.body, what).to.have.property("code", 400);
      }
      expect(api.schedules(`acme/wire/${name}`)).to.deep.equal([]);
    });

    it("PATCH switches between cron and once; pause, resume, history, delete", async () => {
      const name = await created(rotator);
      const { body: action } = await call(
        "POST",
        env(name, "/schedules"),
        body({ scheduleCron: "0 3 * * *" }),
      );
      const once = new Date(Date.now() + 3 * 24 * 3600_000);
      once.setUTCMilliseconds(0);
      const patched = await call(
        "PATCH",
        env(name, `/schedules/${action.id}`),
        JSON.stringify({ scheduleOnce: once.toISOString() }),
      );
      expect(patched.status).to.equal(200);
      expect(patched.body).to.not.have.property("scheduleCron");
      expect(patched.body.scheduleOnce).to.equal(serviceTime(once));
      expect(patched.body.nextExecution).to.equal(serviceTime(once));
      expect(
        (
          await call(
            "PATCH",
            env(name, `/schedules/${action.id}`),
            body({ scheduleCron: "5 0 * * 1" }),
          )
        ).body.scheduleCron,
      ).to.equal("5 0 * * 1");

      expect((await call("POST", env(name, `/schedules/${action.id}/pause`))).status).to.equal(200);
      expect(api.schedules(`acme/wire/${name}`)[0].paused).to.equal(true);
      await call("POST", env(name, `/schedules/${action.id}/resume`));
      expect(api.schedules(`acme/wire/${name}`)[0].paused).to.equal(false);

      const event = await api.runSchedule(`acme/wire/${name}`);
      expect(event).to.include({ status: "succeeded", scheduledActionID: action.id });
      const history = await call("GET", env(name, `/schedules/${action.id}/history`));
      expect(history.body.scheduleHistoryEvents).to.have.length(1);
      expect(history.body.scheduleHistoryEvents[0]).to.include({
        scheduledActionID: action.id,
        result: "succeeded",
      });

      expect((await call("DELETE", env(name, `/schedules/${action.id}`))).status).to.equal(200);
      expect((await call("GET", env(name, `/schedules/${action.id}`))).status).to.equal(404);
      expect((await call("DELETE", env(name, `/schedules/${action.id}`))).status).to.equal(404);
    });

    it("403 when the organization's rotation feature is off; 404 for no such environment", async () => {
      const name = await created(rotator);
      api.rotationDisabled.add("acme");
      const off = await call("POST", env(name, "/schedules"), body({ scheduleCron: "0 3 * * *" }));
      api.rotationDisabled.delete("acme");
      expect(off.status).to.equal(403);
      expect((await call("GET", env("missing", "/schedules"))).status).to.equal(404);
    });
  });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe("ESC stand-in driven by the real Pulumi CLI (`pulumi env`)", function () {
  this.timeout(5 * 60_000);
  let api: EscStandIn;
  let pg: TestCluster;
  let pair: { username1: string; username2: string };
  let scratch: string;
  let cliEnv: NodeJS.ProcessEnv;
  let binDir: string;
  const secrets = new Set<string>([ESC_TOKEN]);

  before(async function () {
    this.timeout(40 * 60_000);
    binDir = ensurePulumiCli();
    pg = await cluster(SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1]);
    pair = await pg.createPair();
    secrets.add(pg.manager.password);
    const bundle = require(BUNDLE) as typeof HandlerModule;
    api = await startEscStandIn();
    api.connector = (event) => bundle.handleEvent(event, { PGSSLMODE: "disable" }, () => undefined);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "esc-cli-"));
    // Nothing of the caller's Pulumi settings: a home of its own, the token from the environment.
    cliEnv = {
      PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`,
      HOME: scratch,
      PULUMI_HOME: path.join(scratch, ".pulumi"),
      PULUMI_ACCESS_TOKEN: ESC_TOKEN,
      PULUMI_SKIP_UPDATE_CHECK: "true",
    };
  });
  after(async () => {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
    await api?.close();
  });

  /**
   * Runs the CLI without blocking this process, which serves the stand-in. Its output must hold
   * no secret, unless the command's job is to reveal them (`env open`).
   */
  async function pulumi(...args: string[]): Promise<Run> {
    const run = await new Promise<Run>((resolve) => {
      execFile(
        path.join(binDir, "pulumi"),
        args,
        { cwd: scratch, env: cliEnv, timeout: 60_000 },
        (error, stdout, stderr) => {
          const code = error ? Number((error as { code?: unknown }).code ?? 1) || 1 : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
    if (args[1] !== "open") expectNoSecrets(run.stdout + run.stderr, [...secrets]);
    return run;
  }
  async function ok(...args: string[]): Promise<string> {
    const run = await pulumi(...args);
    expect(run.code, `pulumi ${args.join(" ")}: ${run.stderr}`).to.equal(0);
    return run.stdout;
  }
  const file = (name: string, text: string) => {
    const target = path.join(scratch, name);
    fs.writeFileSync(target, text);
    return target;
  };
  const opened = async (ref: string) =>
    JSON.parse(await ok("env", "open", ref)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  it("logs in with `pulumi login <url>` (GET /api/user) into a local PULUMI_HOME", async () => {
    const out = await ok("login", api.url);
    expect(out).to.include(`Logged in to ${api.url} as ${STANDIN_USER}`);
    expect(fs.readFileSync(path.join(scratch, ".pulumi", "credentials.json"), "utf8")).to.include(
      api.url,
    );
    const whoami = await ok("whoami", "-v");
    expect(whoami).to.match(new RegExp(`User: ${STANDIN_USER}`));
    expect(whoami).to.match(/Organizations: acme/);
    expect(api.requests.some((r) => r.path === "/api/user" && r.status === 200)).to.equal(true);
  });

  it("init, set (plain and --secret), get, open and version history", async () => {
    const password = "cli-secret-Value-0987654321";
    secrets.add(password);
    expect(await ok("env", "init", "acme/cli/app")).to.include("Environment created: acme/cli/app");
    await ok("env", "set", "acme/cli/app", "greeting", "hello");
    await ok("env", "set", "acme/cli/app", "db.password", password, "--secret");

    const stored = api.stored("acme/cli/app")!;
    expect(stored).to.include("greeting: hello").and.include("ciphertext");
    expect(stored).to.not.include(password);
    // Each set read the revision (GET) and wrote over exactly that one (PATCH If-Match).
    const gets = api.requests.filter(
      (r) => r.method === "GET" && r.path === "/api/esc/environments/acme/cli/app",
    );
    const patches = api.requests.filter((r) => r.method === "PATCH");
    expect(patches.map((r) => r.headers["if-match"])).to.deep.equal(
      api
        .revisions("acme/cli/app")
        .slice(0, 2)
        .map((r) => r.etag),
    );
    expect(gets).to.have.length(2);

    const whole = await ok("env", "get", "acme/cli/app");
    expect(whole).to.include('"greeting": "hello"').and.include('"password": "[secret]"');
    const member = await ok("env", "get", "acme/cli/app", "db.password");
    expect(member).to.include('"[secret]"').and.include("Defined at").and.include("app:");
    expect((await ok("env", "get", "acme/cli/app", "greeting", "--value", "json")).trim()).to.equal(
      '"hello"',
    );

    const open = await pulumi("env", "open", "acme/cli/app");
    expect(JSON.parse(open.stdout.replace(password, "<revealed>"))).to.deep.equal({
      db: { password: "<revealed>" },
      greeting: "hello",
    });

    const history = await ok("env", "version", "history", "acme/cli/app");
    expect(history.match(/^revision \d+/gm)).to.deep.equal([
      "revision 3",
      "revision 2",
      "revision 1",
    ]);
    expect(history).to.include("revision 3 (tag: latest)");
    expect(await ok("env", "get", "acme/cli/app@2", "--definition")).to.not.include("password");
  });

  it("a set that lost a race is refused with 409 (stale If-Match) and overwrites nothing", async () => {
    await ok("env", "init", "acme/cli/raced");
    const rival = "values:\n  winner: rival\n";
    api.beforePatch = (name) => {
      api.beforePatch = undefined;
      api.write(name, rival);
    };
    const run = await pulumi("env", "set", "acme/cli/raced", "winner", "cli");
    expect(run.code).to.not.equal(0);
    expect(run.stderr).to.include("[409]");
    expect(api.stored("acme/cli/raced")).to.equal(rival);
  });

  it("rotate changes the database password through the connector, as a new revision", async () => {
    await ok(
      "env",
      "init",
      "acme/cli/credentials",
      "--file",
      file("credentials.yaml", credentialsEnvironmentYaml({ managingUser: pg.manager })),
    );
    const rotatorYaml = rotatorEnvironmentYaml({
      credentials: { project: "cli", environment: "credentials" },
      database: { host: pg.server.host, port: pg.server.port, database: "app" },
      rotateUsers: pair,
    });
    await ok("env", "init", "acme/cli/rotator", "--file", file("rotator.yaml", rotatorYaml));
    expect(api.revisions("acme/cli/rotator")).to.have.length(2);

    const first = await ok("env", "rotate", "acme/cli/rotator");
    expect(first).to.include("Environment 'acme/cli/rotator' rotated.");
    expect(first).to.include("New revision '3' was created.");
    const afterFirst = (await opened("acme/cli/rotator")).dbRotator;
    secrets.add(afterFirst.current.password);
    expect(afterFirst.current.username).to.equal(pair.username1);
    expect(afterFirst.previous).to.deep.equal({ username: pair.username2 });
    expect(await pg.canLogin(pair.username1, afterFirst.current.password)).to.equal(true);

    await ok("env", "rotate", "acme/cli/rotator", "dbRotator");
    const afterSecond = (await opened("acme/cli/rotator")).dbRotator;
    secrets.add(afterSecond.current.password);
    expect(afterSecond.current.username).to.equal(pair.username2);
    expect(afterSecond.previous).to.deep.equal(afterFirst.current);
    expect(await pg.canLogin(pair.username2, afterSecond.current.password)).to.equal(true);
    expect(await pg.canLogin(pair.username1, afterFirst.current.password)).to.equal(true);

    const history = await ok("env", "version", "history", "acme/cli/rotator");
    expect(history).to.include("revision 4 (tag: latest)");
    expect(api.stored("acme/cli/rotator")).to.not.include(afterSecond.current.password);
    expect(await ok("env", "get", "acme/cli/rotator")).to.include("[secret]");
  });

  it("a failed rotation comes back as a failed status in a 200 reply; the CLI reports it", async () => {
    const wrong = "not-the-managing-password-1234";
    secrets.add(wrong);
    await ok(
      "env",
      "init",
      "acme/cli/bad-credentials",
      "--file",
      file(
        "bad.yaml",
        credentialsEnvironmentYaml({ managingUser: { ...pg.manager, password: wrong } }),
      ),
    );
    const yaml = rotatorEnvironmentYaml({
      credentials: { project: "cli", environment: "bad-credentials" },
      database: { host: pg.server.host, port: pg.server.port, database: "app" },
      rotateUsers: await pg.createPair(),
    });
    await ok("env", "init", "acme/cli/bad-rotator", "--file", file("bad-rotator.yaml", yaml));
    const run = await pulumi("env", "rotate", "acme/cli/bad-rotator");
    // The CLI exits 0 on a failed rotation: it prints the event's errors.
    expect(run.code).to.equal(0);
    expect(run.stdout).to.include("Error rotating:");
    expect(run.stdout).to.match(/Failed secrets:\s+Path: dbRotator, error: .+/);
    expect(api.requests.at(-1)).to.include({ method: "POST", status: 200 });
    expect(api.revisions("acme/cli/bad-rotator")).to.have.length(2);

    api.rotationDisabled.add("acme");
    const off = await pulumi("env", "rotate", "acme/cli/rotator").finally(() =>
      api.rotationDisabled.delete("acme"),
    );
    expect(off.code).to.not.equal(0);
    expect(off.stderr).to.include("[403]");
  });

  it("schedule new, ls, get, edit, history and rm", async () => {
    const ref = "acme/cli/rotator";
    const created = await ok("env", "schedule", "new", ref, "--cron", "0 3 * * *");
    const id = /Created schedule (\S+) for acme\/cli\/rotator/.exec(created)![1];
    expect(api.schedules(ref).map((s) => s.id)).to.deep.equal([id]);
    const second = await pulumi("env", "schedule", "new", ref, "--cron", "0 4 * * *");
    expect(second.stderr).to.include("already has a schedule");

    const listed = await ok("env", "schedule", "ls", ref, "--utc");
    expect(listed)
      .to.include(id)
      .and.include("0 3 * * *")
      .and.match(/T03:00:00Z/);

    const once = new Date(Date.now() + 2 * 24 * 3600_000);
    once.setUTCMilliseconds(0);
    const at = once.toISOString().replace(".000Z", "Z");
    expect(await ok("env", "schedule", "edit", ref, id, "--once", at)).to.include(
      `Updated schedule ${id}`,
    );
    expect(await ok("env", "schedule", "get", ref, id, "--utc")).to.include(`Schedule: ${at}`);

    const before = (await opened(ref)).dbRotator.current;
    await api.runSchedule(ref);
    const after = (await opened(ref)).dbRotator.current;
    secrets.add(after.password);
    expect(after.username).to.not.equal(before.username);
    expect(await pg.canLogin(after.username, after.password)).to.equal(true);
    expect(await ok("env", "schedule", "history", ref, id)).to.include("succeeded");

    expect(await ok("env", "schedule", "rm", ref, id, "--yes")).to.include(
      `Removed schedule ${id}`,
    );
    expect(api.schedules(ref)).to.deep.equal([]);
  });
});
