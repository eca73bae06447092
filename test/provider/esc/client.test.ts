/**
 * The ESC client against the stand-in's copy of the service's wire behaviour, through the real
 * `@pulumi/esc-sdk`: 204 answers, `ETag` and `Pulumi-ESC-Revision` headers, 409 on a stale ETag.
 */
import { expect } from "chai";
import { escApiBase, escClient, type EscLocation } from "../../../provider/esc/client";
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
    expect(escApiBase("https://pulumi.example.com:8443/cloud/")).to.equal(
      "https://pulumi.example.com:8443/cloud/api/esc",
    );
  });
});
