/** The ESC stand-in itself: its wire behaviour, status by status, as the service's specs describe it. */
import { expect } from "chai";
import {
  ESC_TOKEN,
  serviceTime,
  startEscStandIn,
  STANDIN_USER,
  type EscStandIn,
  type ScheduledAction,
  type SecretRotationEvent,
} from "./escStandIn";
import { rejection } from "./secrets";

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
