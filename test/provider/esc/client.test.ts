/**
 * The ESC client against the stand-in's copy of the service's wire behaviour, through the real
 * `@pulumi/esc-sdk`: 204 answers, `ETag` and `Pulumi-ESC-Revision` headers, 409 on a stale ETag.
 */
import { expect } from "chai";
import {
  accessToken,
  describe as describeBody,
  escApiBase,
  escClient,
  plainValue,
  type EscLocation,
} from "../../../provider/esc/client";
import { EscConflictError, EscError } from "../../../provider/errors";
import { ESC_TOKEN, startEscStandIn, type EscStandIn } from "../../support/escStandIn";
import { expectNoSecrets, rejection, renderings } from "../../support/secrets";

describe("escClient (local ESC stand-in, real esc-sdk)", () => {
  let api: EscStandIn;
  let counter = 0;
  before(async () => (api = await startEscStandIn()));
  after(() => api?.close());

  function location(extra: Partial<EscLocation> = {}): EscLocation {
    counter += 1;
    return {
      organization: "acme",
      project: "payments",
      environment: `client-${counter}`,
      accessToken: ESC_TOKEN,
      apiUrl: api.url,
      ...extra,
    };
  }
  const answered = (method: string, environment: string) =>
    api.requests.filter((r) => r.method === method && r.path.includes(environment)).at(-1)?.status;

  it("creates and deletes, though both answer 204 without a body", async () => {
    const at = location();
    const client = escClient(at);
    await client.create();
    expect(api.requests.at(-1)).to.include({
      method: "POST",
      status: 204,
      path: "/api/esc/environments/acme",
    });
    await client.remove();
    expect(answered("DELETE", at.environment)).to.equal(204);
    expect(await client.read()).to.equal(undefined);
  });

  it("reads the ETag and the revision number; a write answers with the new ones", async () => {
    const client = escClient(location());
    await client.create();
    const first = (await client.read())!;
    expect(first.revision).to.equal(1);
    expect(first.etag).to.match(/^".+"$/);
    const written = await client.update("values:\n  a: 1\n", first.etag);
    const second = (await client.read())!;
    expect(written).to.deep.equal({ etag: second.etag, revision: 2 });
    expect(second.etag).to.not.equal(first.etag);
    expect(await client.readRevision(1)).to.deep.include({ revision: 1, yaml: first.yaml });
    expect(await client.readRevision(9)).to.equal(undefined);
  });

  it("reads a document that is also JSON as the text it is, not as a parsed object", async () => {
    const at = location();
    const client = escClient(at);
    await client.create();
    expect((await client.read())!.yaml).to.equal("{}\n");
    await client.update('{"values": {"a": 1}}\n', (await client.read())!.etag);
    const stored = api.stored(`acme/payments/${at.environment}`);
    expect(stored).to.match(/^\{ "values": \{ "a": 1 \} \}\n$/);
    expect((await client.read())!.yaml).to.equal(stored);
    expect((await client.readRevision(2))!.yaml).to.equal(stored);
  });

  it("a failed read of a document (a body read as text) reports the service's message", async () => {
    const at = location();
    const client = escClient(at);
    await client.create();
    api.beforeRequest = (method) =>
      method === "GET" ? { status: 500, message: "Internal Server Error" } : undefined;
    try {
      const error = await rejection(client.read());
      expect(error).to.be.instanceOf(EscError);
      expect(error.message).to.equal(
        `reading ESC environment acme/payments/${at.environment} failed (HTTP 500): ` +
          "Internal Server Error",
      );
    } finally {
      api.beforeRequest = undefined;
    }
  });

  it("a write naming a revision that is no longer the newest fails with EscConflictError", async () => {
    const at = location();
    const client = escClient(at);
    await client.create();
    const { etag } = (await client.read())!;
    await client.update("values:\n  a: 1\n", etag);
    const error = await rejection(client.update("values:\n  a: 2\n", etag));
    expect(error).to.be.instanceOf(EscConflictError);
    expect((error as EscConflictError).status).to.equal(409);
    expect(error.message).to.equal(
      `updating ESC environment acme/payments/${at.environment} failed: it changed since it was ` +
        `read (HTTP 409); nothing was overwritten. Run again to work from its newest revision`,
    );
    expect(answered("PATCH", at.environment)).to.equal(409);
    expect(api.stored(`acme/payments/${at.environment}`)).to.include("a: 1");
  });

  it("sends `Authorization: token <token>`, and a refused token never shows", async () => {
    const client = escClient(location());
    await client.create();
    expect(api.requests.at(-1)!.headers.authorization).to.equal(`token ${ESC_TOKEN}`);
    const wrong = "pul-not-the-token-5555";
    const error = await rejection(escClient(location({ accessToken: wrong })).read());
    expect(error).to.be.instanceOf(EscError);
    expect(error.message).to.include("HTTP 401");
    expectNoSecrets(renderings(error), [wrong]);
  });

  it("keeps a custom API URL's port and path", () => {
    expect(escApiBase(undefined)).to.equal("https://api.pulumi.com/api/esc");
    expect(escApiBase("https://pulumi.example.com//")).to.equal(
      "https://pulumi.example.com/api/esc",
    );
    expect(escApiBase("https://pulumi.example.com:8443/cloud/")).to.equal(
      "https://pulumi.example.com:8443/cloud/api/esc",
    );
  });

  it("creating a name that is taken is an EscError with status 409, not a read/write conflict", async () => {
    const at = location();
    await escClient(at).create();
    const error = await rejection(escClient(at).create());
    expect(error).to.be.instanceOf(EscError).and.not.instanceOf(EscConflictError);
    expect((error as EscError).status).to.equal(409);
    expect(error.message).to.equal(
      `creating ESC environment acme/payments/${at.environment} failed: it already exists (HTTP 409)`,
    );
  });

  it("says which call failed, with the service's status, message and a hint", async () => {
    const at = location();
    const client = escClient(at);
    await client.create();
    const name = `acme/payments/${at.environment}`;
    const failing = async (method: string, status: number, work: () => Promise<unknown>) => {
      api.beforeRequest = (m, path) =>
        m === method && (path.includes(at.environment) || path.endsWith("/environments/acme"))
          ? { status, message: `injected ${status}` }
          : undefined;
      return (await rejection(work().finally(() => (api.beforeRequest = undefined)))) as EscError;
    };

    const created = await failing("POST", 500, () => escClient(location()).create());
    expect(created).to.be.instanceOf(EscError);
    expect(created.status).to.equal(500);
    expect(created.message).to.match(
      /^creating ESC environment \S+ failed \(HTTP 500\): injected 500$/,
    );
    // Reads take the body as text; the service's {code, message} is still read from it.
    const read = await failing("GET", 500, () => client.read());
    expect(read.message).to.equal(
      `reading ESC environment ${name} failed (HTTP 500): injected 500`,
    );
    const revision = await failing("GET", 403, () => client.readRevision(1));
    expect(revision.message).to.equal(
      `reading revision 1 of ESC environment ${name} failed (HTTP 403): injected 403; check the ` +
        `access token and its permissions on the environment`,
    );
    const removed = await failing("DELETE", 500, () => client.remove());
    expect(removed.message).to.equal(
      `deleting ESC environment ${name} failed (HTTP 500): injected 500`,
    );
    const opened = await failing("POST", 404, () => client.openValue("a"));
    expect(opened.message).to.equal(
      `opening ESC environment ${name} failed (HTTP 404): injected 404; no such organization, ` +
        `project or environment`,
    );
    expect(opened.status).to.equal(404);
    // A 404 on delete is success; on a revision read, no such revision.
    await failing("DELETE", 404, () => client.remove()).catch(() => undefined);
    expect(await client.readRevision(1)).to.deep.include({ revision: 1 });
  });

  it("a service it cannot reach is an EscError without a status", async () => {
    const closed = await startEscStandIn();
    await closed.close();
    const error = await rejection(escClient(location({ apiUrl: closed.url })).read());
    expect(error).to.be.instanceOf(EscError);
    expect((error as EscError).status).to.equal(undefined);
    expect(error.message).to.match(/^reading ESC environment \S+ failed: \S/);
    expect(error.message).to.not.include("HTTP");
  });

  it("takes the token trimmed, keeps every form of it secret, and refuses a blank one", () => {
    const at = location({ accessToken: ` ${ESC_TOKEN}\n` });
    expect(accessToken(at, "x")).to.deep.equal({
      value: ESC_TOKEN,
      secrets: [` ${ESC_TOKEN}\n`, ESC_TOKEN, `token ${ESC_TOKEN}`],
    });
    expect(() => accessToken(location({ accessToken: " \n" }), "thing")).to.throw(
      EscError,
      "no Pulumi access token for thing: set the accessToken input or PULUMI_ACCESS_TOKEN",
    );
    const saved = process.env.PULUMI_ACCESS_TOKEN;
    delete process.env.PULUMI_ACCESS_TOKEN;
    try {
      const blank = location({ accessToken: undefined });
      expect(() => escClient(blank)).to.throw(
        EscError,
        `no Pulumi access token for ESC environment acme/payments/${blank.environment}:`,
      );
    } finally {
      if (saved !== undefined) process.env.PULUMI_ACCESS_TOKEN = saved;
    }
  });

  it("turns ESC values and error bodies into plain data and one line", () => {
    expect(plainValue(undefined)).to.equal(undefined);
    expect(plainValue(null as never)).to.equal(undefined);
    expect(plainValue({ value: 5 })).to.equal(5);
    expect(plainValue({ value: null })).to.equal(null);
    expect(
      plainValue({ value: [{ value: "a" }, { value: { b: { value: true, secret: true } } }] }),
    ).to.deep.equal(["a", { b: true }]);

    expect(describeBody("  busy \n")).to.equal("busy");
    expect(describeBody(" ")).to.equal(undefined);
    expect(describeBody(null)).to.equal(undefined);
    expect(describeBody(42)).to.equal(undefined);
    expect(describeBody({ message: "m" })).to.equal("m");
    expect(describeBody({ message: "m", diagnostics: [] })).to.equal("m");
    expect(
      describeBody({
        message: "m",
        diagnostics: [{ path: "values.a", summary: "bad" }, { summary: "worse" }],
      }),
    ).to.equal("values.a: bad; worse");
  });
});
