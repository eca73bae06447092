/** The ESC schedules client against the stand-in: paths, bodies, and each failure's message. */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { escScheduleClient } from "../../../provider/esc/schedules";
import type { EscLocation } from "../../../provider/esc/client";
import { EscError } from "../../../provider/errors";
import { ESC_TOKEN, startEscStandIn, type EscStandIn } from "../../support/escStandIn";
import { expectNoSecrets, rejection, renderings } from "../../support/secrets";

describe("escScheduleClient (local ESC stand-in)", () => {
  let api: EscStandIn;
  let counter = 0;
  before(async () => (api = await startEscStandIn()));
  after(() => api?.close());

  const daily = { scheduleCron: "0 3 * * *", secretRotationRequest: { environmentPath: "" } };
  function location(extra: Partial<EscLocation> = {}): EscLocation {
    counter += 1;
    const environment = `sched-${counter}`;
    api.write(`acme/payments/${environment}`, "values:\n  a: 1\n");
    return {
      organization: "acme",
      project: "payments",
      environment,
      accessToken: ESC_TOKEN,
      apiUrl: api.url,
      ...extra,
    };
  }

  it("creates, lists, reads, updates and deletes through the schedules endpoints", async () => {
    const at = location();
    const client = escScheduleClient(at);
    const route = `/api/esc/environments/acme/payments/${at.environment}/schedules`;
    const created = await client.create(daily);
    const post = api.requests.at(-1)!;
    expect(post).to.include({ method: "POST", path: route });
    expect(JSON.parse(post.body)).to.deep.equal(daily);
    expect(post.headers.authorization).to.equal(`token ${ESC_TOKEN}`);
    expect(post.headers["content-type"]).to.equal("application/json");
    expect(created).to.include({ scheduleCron: "0 3 * * *", kind: "environment_rotation" });

    expect((await client.list()).map((s) => s.id)).to.deep.equal([created.id]);
    expect(await client.get(created.id)).to.deep.equal(created);
    const updated = await client.update(created.id, { ...daily, scheduleCron: "0 4 * * *" });
    expect(api.requests.at(-1)).to.include({ method: "PATCH", path: `${route}/${created.id}` });
    expect(updated.scheduleCron).to.equal("0 4 * * *");

    await client.remove(created.id);
    expect(api.requests.at(-1)).to.include({ method: "DELETE", status: 200 });
    expect(await client.get(created.id)).to.equal(undefined);
    await client.remove(created.id); // 404: already gone is fine
    expect(api.requests.at(-1)!.status).to.equal(404);
  });

  it("403: says the organization's rotation feature is off", async () => {
    const client = escScheduleClient(location());
    api.rotationDisabled.add("acme");
    const error = await rejection(client.create(daily)).finally(() =>
      api.rotationDisabled.delete("acme"),
    );
    expect(error).to.be.instanceOf(EscError);
    expect((error as EscError).status).to.equal(403);
    expect(error.message).to.match(
      /^creating the rotation schedule of ESC environment acme\/payments\/sched-\d+ failed \(HTTP 403\): the secret rotation feature is not enabled for organization "acme"/,
    );
  });

  it("409: says ESC allows one schedule per environment", async () => {
    const client = escScheduleClient(location());
    await client.create(daily);
    const error = await rejection(client.create(daily));
    expect((error as EscError).status).to.equal(409);
    expect(error.message).to.include("ESC allows one rotation schedule per environment");
  });

  it("passes the service's 400 on and names a missing environment", async () => {
    const client = escScheduleClient(location());
    const refused = await rejection(client.create({ ...daily, scheduleCron: "* * * * *" }));
    expect(refused.message).to.match(/\(HTTP 400\): scheduleCron must run at most once a day/);
    const missing = await rejection(
      escScheduleClient({ ...location(), environment: "nowhere" }).list(),
    );
    expect(missing.message).to.include("(HTTP 404)").and.include("no such organization");
  });

  it("never shows the token; without one, fails before any request", async () => {
    const wrong = "pul-wrong-schedule-token-42";
    const error = await rejection(escScheduleClient(location({ accessToken: wrong })).list());
    expect(error.message).to.include("(HTTP 401)").and.include("check the access token");
    expectNoSecrets(renderings(error), [wrong]);

    const saved = process.env.PULUMI_ACCESS_TOKEN;
    delete process.env.PULUMI_ACCESS_TOKEN;
    const before = api.requests.length;
    try {
      const withoutToken = { ...location(), accessToken: undefined };
      expect(() => escScheduleClient(withoutToken)).to.throw(EscError, /no Pulumi access token/);
    } finally {
      if (saved !== undefined) process.env.PULUMI_ACCESS_TOKEN = saved;
    }
    expect(api.requests.length).to.equal(before);
  });

  it("keeps a custom API URL's port and path", async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.url ?? "");
      res.writeHead(200, { "content-type": "application/json" }).end('{"schedules":[]}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = escScheduleClient({
        organization: "acme",
        project: "p",
        environment: "e",
        accessToken: ESC_TOKEN,
        apiUrl: `http://127.0.0.1:${port}/pulumi/`,
      });
      expect(await client.list()).to.deep.equal([]);
      expect(seen).to.deep.equal(["/pulumi/api/esc/environments/acme/p/e/schedules"]);
    } finally {
      server.close();
    }
  });
});
