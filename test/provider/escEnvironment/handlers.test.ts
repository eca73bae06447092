/** `EscEnvironment`'s provider against the local ESC stand-in, through the real `@pulumi/esc-sdk`. */
import { expect } from "chai";
import { parse } from "yaml";
import * as esc from "../../../provider/escEnvironment/handlers";
import type {
  EscEnvironmentInputs,
  EscEnvironmentOutputs,
} from "../../../provider/escEnvironment/handlers";
import {
  credentialsEnvironmentYaml,
  rotatorEnvironmentYaml,
  rotatorStateNode,
} from "../../../provider/esc/documents";
import { escClient } from "../../../provider/esc/client";
import { EscConflictError, EscError, ValidationError } from "../../../provider/errors";
import { UNKNOWN } from "../../../provider/core/validate";
import { ESC_TOKEN, startEscStandIn, type EscStandIn } from "../../support/escStandIn";
import { expectNoSecrets, rejection, renderings } from "../../support/secrets";
import { SEED_CREDENTIALS, SEED_ROTATOR, seedYaml } from "../../fixtures/seed";

describe("EscEnvironment provider (local ESC stand-in, real esc-sdk)", () => {
  let api: EscStandIn;
  let counter = 0;
  before(async () => (api = await startEscStandIn()));
  after(() => api?.close());

  function inputs(yaml: string, extra: Partial<EscEnvironmentInputs> = {}): EscEnvironmentInputs {
    counter += 1;
    return {
      organization: "acme",
      project: "payments",
      name: `env-${counter}`,
      yaml,
      accessToken: ESC_TOKEN,
      apiUrl: api.url,
      ...extra,
    };
  }
  const key = (i: EscEnvironmentInputs) => `${i.organization}/${i.project}/${i.name}`;
  const credentials = credentialsEnvironmentYaml({
    managingUser: { username: "rotation_manager", password: "manager-secret-1234" },
  });
  const rotator = (port = 5432) =>
    rotatorEnvironmentYaml({
      credentials: { project: "payments", environment: "credentials" },
      database: { host: "db.internal", port, database: "app" },
      rotateUsers: { username1: "app_user_1", username2: "app_user_2" },
    });

  it("creates the environment; ESC stores the password encrypted and shows ciphertext", async () => {
    const i = inputs(credentials);
    const { id, outs } = await esc.create(i);
    expect(id).to.equal(key(i));
    const stored = api.stored(key(i))!;
    expect(stored).to.not.include("manager-secret-1234");
    expect(parse(stored).values.managingUser.password["fn::secret"]).to.have.property("ciphertext");
    const read = await escClient({ ...i, environment: i.name }).read();
    expect(read?.etag).to.equal((outs as EscEnvironmentOutputs).etag);
    expect(await escClient({ ...i, environment: i.name }).openValue("managingUser")).to.deep.equal({
      username: "rotation_manager",
      password: "manager-secret-1234",
    });
  });

  it("updates with the ETag of the revision it read", async () => {
    const i = inputs(rotator());
    const { outs } = await esc.create(i);
    const { outs: next } = await esc.update(key(i), outs as EscEnvironmentOutputs, {
      ...i,
      yaml: rotator(6432),
    });
    const patches = api.requests.filter((r) => r.method === "PATCH" && r.path.includes(i.name));
    expect(patches).to.have.length(2);
    expect(patches[1].headers.etag).to.equal((outs as EscEnvironmentOutputs).etag);
    expect(patches[1].headers["content-type"]).to.match(/application\/x-yaml/);
    expect((next as EscEnvironmentOutputs).etag).to.not.equal((outs as EscEnvironmentOutputs).etag);
    expect(
      parse(api.stored(key(i))!).values.dbRotator["fn::rotate::postgres"].inputs.database.port,
    ).to.equal(6432);
  });

  it("fails with 409 when someone writes between its read and its write; loses nothing", async () => {
    const i = inputs(rotator());
    const { outs } = await esc.create(i);
    const rival = rotator(7777);
    api.beforePatch = (name) => {
      if (name === key(i)) {
        api.beforePatch = undefined;
        api.write(name, rival);
      }
    };
    const error = await rejection(
      esc.update(key(i), outs as EscEnvironmentOutputs, { ...i, yaml: rotator(6432) }),
    );
    expect(error).to.be.instanceOf(EscConflictError);
    expect(error.message).to.include("HTTP 409");
    expect(error.message).to.include("nothing was overwritten");
    expect(parse(api.stored(key(i))!)).to.deep.equal(parse(rival));
  });

  it("records its own revision when someone writes right after it, so the edit still stops the next update", async () => {
    const i = inputs(rotator());
    const rival = rotator(9999);
    api.afterPatch = (name) => {
      if (name !== key(i)) return;
      api.afterPatch = undefined;
      api.write(name, rival); // lands between our write and our read-back
    };
    const { outs } = await esc.create(i);
    expect(api.revisions(key(i)).map((r) => r.etag)).to.include(
      (outs as EscEnvironmentOutputs).etag,
    );
    expect((outs as EscEnvironmentOutputs).etag).to.not.equal(api.revisions(key(i)).at(-1)!.etag);
    const error = await rejection(
      esc.update(key(i), outs as EscEnvironmentOutputs, { ...i, yaml: rotator(6432) }),
    );
    expect(error).to.be.instanceOf(EscConflictError);
    expect(parse(api.stored(key(i))!)).to.deep.equal(parse(rival));
  });

  it("stops when the environment was edited outside Pulumi; refresh accepts the edit", async () => {
    const i = inputs(rotator());
    const { outs } = await esc.create(i);
    api.write(key(i), rotator(8888));
    const error = await rejection(
      esc.update(key(i), outs as EscEnvironmentOutputs, { ...i, yaml: rotator(6432) }),
    );
    expect(error).to.be.instanceOf(EscConflictError);
    expect((error as EscConflictError).status).to.equal(409);
    expect(error.message).to.equal(
      `ESC environment ${key(i)} was changed outside Pulumi since the last deployment; nothing ` +
        `was overwritten. Run \`pulumi refresh\` to accept its current revision, then \`pulumi up\``,
    );
    expect(
      parse(api.stored(key(i))!).values.dbRotator["fn::rotate::postgres"].inputs.database.port,
    ).to.equal(8888);

    const refreshed = await esc.read(key(i), outs as EscEnvironmentOutputs);
    await esc.update(key(i), refreshed.props as EscEnvironmentOutputs, {
      ...i,
      yaml: rotator(6432),
    });
    expect(
      parse(api.stored(key(i))!).values.dbRotator["fn::rotate::postgres"].inputs.database.port,
    ).to.equal(6432);
  });

  it("keeps a newer state written by an ESC rotation when the inputs change", async () => {
    const i = inputs(rotator(), { rotatorKey: "dbRotator" });
    const { outs } = await esc.create(i);
    // ESC rotates: only the state node changes, as a new revision.
    const rotated = api
      .stored(key(i))!
      .concat(
        "      state:\n        current:\n          password:\n            fn::secret: esc-made-password\n          username: app_user_1\n        previous:\n          username: app_user_2\n",
      );
    api.write(key(i), rotated);
    const stateBefore = rotatorStateNode(api.stored(key(i))!, "dbRotator");
    await esc.update(key(i), outs as EscEnvironmentOutputs, { ...i, yaml: rotator(6432) });
    const stored = api.stored(key(i))!;
    expect(rotatorStateNode(stored, "dbRotator")).to.deep.equal(stateBefore);
    expect(parse(stored).values.dbRotator["fn::rotate::postgres"].inputs.database.port).to.equal(
      6432,
    );
  });

  it("says what is wrong with a bad token, never showing it", async () => {
    const wrong = "pul-wrong-token-9876543210";
    const error = await rejection(esc.create(inputs(credentials, { accessToken: wrong })));
    expect(error).to.be.instanceOf(EscError);
    expect(error.message).to.include("HTTP 401");
    expect(error.message).to.include("check the access token");
    expectNoSecrets(renderings(error), [wrong, "manager-secret-1234"]);
  });

  it("refuses bad names and YAML before calling ESC", async () => {
    const before = api.requests.length;
    const checked = await esc.check(
      {},
      { organization: "acme", project: "a b", name: "", yaml: "a: [" },
    );
    expect(checked.failures!.map((f) => f.reason)).to.have.length(3);
    expect(api.requests.length).to.equal(before);
  });

  it("stores both seed documents so that, re-read, they are what the seed prescribes", async () => {
    const seedCredentials = parse(seedYaml("credentials"));
    const seedRotator = parse(seedYaml("rotator"));
    const built = [
      credentialsEnvironmentYaml(SEED_CREDENTIALS),
      rotatorEnvironmentYaml(SEED_ROTATOR),
    ];
    for (const [yaml, seed] of [
      [built[0], seedCredentials],
      [built[1], seedRotator],
    ] as const) {
      const i = inputs(yaml);
      await esc.create(i);
      const reread = parse((await escClient({ ...i, environment: i.name }).read())!.yaml);
      // Stored secrets come back as ciphertext; everything else exactly as the seed has it.
      const plain = JSON.parse(
        JSON.stringify(reread, (_k, v) =>
          v && typeof v === "object" && typeof v["fn::secret"]?.ciphertext === "string"
            ? { "fn::secret": "<secret>" }
            : v,
        ),
      );
      const seedPlain = JSON.parse(
        JSON.stringify(seed, (_k, v) =>
          v && typeof v === "object" && typeof v["fn::secret"] === "string"
            ? { "fn::secret": "<secret>" }
            : v,
        ),
      );
      expect(plain).to.deep.equal(seedPlain);
    }
  });

  it("turns ESC's diagnostics into a clear error", async () => {
    const i = inputs(credentials);
    await esc.create(i);
    const client = escClient({ ...i, environment: i.name });
    const { etag } = (await client.read())!;
    const error = await rejection(client.update("values: [unclosed\n", etag));
    expect(error).to.be.instanceOf(EscError);
    expect(error.message).to.match(
      /updating ESC environment acme\/payments\/env-\d+ failed \(HTTP 400\): .+/,
    );
  });

  it("keeps the document's secrets out of ESC's diagnostics", async () => {
    const i = inputs(credentials);
    await esc.create(i);
    const client = escClient({ ...i, environment: i.name });
    const { etag } = (await client.read())!;
    const leaky = "values:\n  a:\n    fn::secret: leaky-password-123\n  b: fn::nope\n";
    // A service that quotes the offending part of the document back.
    api.patchDiagnostics = (body) => [`cannot evaluate: ${body.split("\n")[2].trim()}`];
    const error = await rejection(client.update(leaky, etag)).finally(
      () => (api.patchDiagnostics = undefined),
    );
    expect(error).to.be.instanceOf(EscError);
    expectNoSecrets(renderings(error), ["leaky-password-123"]);
  });

  /** A document whose `values.list` holds `count` aliases of one anchored scalar. */
  const aliases = (count: number) =>
    `values:\n  base: &b shared\n  list: [${Array(count).fill("*b").join(", ")}]\n`;

  it("check refuses a document create could not read (100 aliases and more): nothing is written", async () => {
    const tooMany =
      "yaml has too many aliases (*anchor references) to read: the YAML parser stops at 100 " +
      "expansions, its guard against alias bombs; write some of the values out in full";
    for (const count of [100, 101]) await refused(inputs(aliases(count)), tooMany);
    await refused(
      inputs("values:\n  a: *x\n  b: &x 1\n"),
      "yaml has an alias (*name) before the anchor (&name) it refers to",
    );
  });
  async function refused(i: EscEnvironmentInputs, problem: string) {
    const checked = await esc.check({}, i as unknown as Record<string, unknown>);
    expect(checked.failures!.map((f) => f.reason)).to.deep.equal([problem]);
    const start = api.requests.length;
    const error = await rejection(esc.create(i));
    expect(error).to.be.instanceOf(ValidationError);
    expect(error.message).to.equal(`invalid input: ${problem}`);
    expect(api.requests.length, "requests by the refused create").to.equal(start);
    expect(api.stored(key(i))).to.equal(undefined);
  }

  it("takes a document of 99 aliases through check, create, update and refresh", async () => {
    const i = inputs(aliases(99));
    expect((await esc.check({}, i as unknown as Record<string, unknown>)).failures).to.deep.equal(
      [],
    );
    const { outs } = await esc.create(i);
    expect(parse(api.stored(key(i))!).values.list).to.have.length(99);
    const { outs: next } = await esc.update(key(i), outs as EscEnvironmentOutputs, {
      ...i,
      yaml: aliases(98),
    });
    const refreshed = await esc.read(key(i), next as EscEnvironmentOutputs);
    expect(refreshed.props).to.deep.equal(next);
  });

  it("a create that failed after ESC made the environment: the next create adopts it", async () => {
    const i = inputs(credentials);
    // The write fails: ESC holds the empty environment the create made.
    api.beforeRequest = (method, path) =>
      method === "PATCH" && path.endsWith(`/${i.name}`)
        ? { status: 500, message: "injected" }
        : undefined;
    const failed = await rejection(esc.create(i)).finally(() => (api.beforeRequest = undefined));
    expect(failed).to.be.instanceOf(EscError);
    expect(failed.message).to.include("HTTP 500");
    expect(api.revisions(key(i))).to.have.length(1);

    const { id, outs } = await esc.create(i);
    expect(id).to.equal(key(i));
    expect(await escClient({ ...i, environment: i.name }).openValue("managingUser")).to.deep.equal({
      username: "rotation_manager",
      password: "manager-secret-1234",
    });
    expect((outs as EscEnvironmentOutputs).etag).to.equal(api.revisions(key(i)).at(-1)!.etag);
  });

  it("a create that failed after its write: the next create adopts the environment it wrote", async () => {
    const i = inputs(credentials);
    let reads = 0;
    // The read-back after the write fails: ESC holds our document, Pulumi records nothing.
    api.beforeRequest = (method, path) =>
      method === "GET" && path.endsWith(`/${i.name}`) && (reads += 1) === 2
        ? { status: 500, message: "injected" }
        : undefined;
    const failed = await rejection(esc.create(i)).finally(() => (api.beforeRequest = undefined));
    expect(failed.message).to.include("HTTP 500");
    expect(api.revisions(key(i))).to.have.length(2);

    const { outs } = await esc.create(i);
    expect((outs as EscEnvironmentOutputs).etag).to.equal(api.revisions(key(i)).at(-1)!.etag);
    const { outs: next } = await esc.update(key(i), outs as EscEnvironmentOutputs, {
      ...i,
      yaml: credentials.replace("rotation_manager", "other_manager"),
    });
    expect(parse(api.stored(key(i))!).values.managingUser.username).to.equal("other_manager");
    expect((next as EscEnvironmentOutputs).etag).to.equal(api.revisions(key(i)).at(-1)!.etag);
  });

  it("create never takes over an environment someone else made: says so and how to go on", async () => {
    const theirs: [string, string[]][] = [
      ["another document, written once", ["{}\n", "values:\n  theirs: 1\n"]],
      // The same document, but not as a create writes it: edited a second time.
      ["this document, written twice", ["{}\n", "values: {}\n", credentials]],
      ["this document, with other secrets, made at once", [credentials.replace("-1234", "-5678")]],
    ];
    for (const [what, revisions] of theirs) {
      const i = inputs(credentials);
      for (const yaml of revisions) api.write(key(i), yaml);
      const before = api.revisions(key(i)).length;
      const error = await rejection(esc.create(i));
      expect(error, what).to.be.instanceOf(EscError);
      expect(error).to.not.be.instanceOf(EscConflictError);
      expect((error as EscError).status).to.equal(409);
      expect(error.message).to.equal(
        `ESC environment ${key(i)} already exists, and not as an earlier create of this ` +
          `resource left it; nothing was changed. Delete it (\`pulumi env rm ${key(i)}\`) if ` +
          `nothing in it is needed, or choose another environment name`,
      );
      expect(api.revisions(key(i))).to.have.length(before);
      expectNoSecrets(renderings(error), ["manager-secret-1234", "manager-secret-5678", ESC_TOKEN]);
    }
  });

  it("deletes the environment, and a second delete is fine", async () => {
    const i = inputs(credentials);
    const { outs } = await esc.create(i);
    await esc.remove(key(i), outs as EscEnvironmentOutputs);
    expect(api.stored(key(i))).to.equal(undefined);
    await esc.remove(key(i), outs as EscEnvironmentOutputs);
  });

  it("diff: another organization, project, name or URL replaces (old one deleted first); a new document or rotator key updates", async () => {
    const olds = {
      ...inputs(credentials),
      etag: '"e"',
      contentHash: "h",
    } as EscEnvironmentOutputs;
    const same = await esc.diff("x", olds, { ...olds });
    expect(same).to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: true });
    for (const k of ["organization", "project", "name", "apiUrl"] as const) {
      const moved = await esc.diff("x", olds, { ...olds, [k]: "elsewhere" });
      expect(moved, k).to.deep.equal({ changes: true, replaces: [k], deleteBeforeReplace: true });
    }
    // An absent URL and an empty one are the same default.
    const noUrl = { ...olds, apiUrl: undefined };
    expect((await esc.diff("x", noUrl, { ...noUrl, apiUrl: "" })).changes).to.equal(false);
    expect((await esc.diff("x", { ...olds, apiUrl: "" }, noUrl)).changes).to.equal(false);
    const edited = await esc.diff("x", olds, { ...olds, yaml: rotator() });
    expect(edited).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: true });
    const keyed = await esc.diff("x", olds, { ...olds, rotatorKey: "dbRotator" });
    expect(keyed).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: true });
  });

  it("check names the property of each problem, and leaves an unknown document to create", async () => {
    const checked = await esc.check({}, { ...inputs(credentials), accessToken: " " });
    expect(checked.failures).to.deep.equal([
      { property: "accessToken", reason: "accessToken must be a non-empty string" },
    ]);
    const unknown = await esc.check({}, { ...inputs(credentials), yaml: UNKNOWN });
    expect(unknown.failures).to.deep.equal([]);
  });

  it("update and refresh of an environment deleted outside Pulumi: update says so, refresh forgets it", async () => {
    const i = inputs(credentials);
    const { outs } = await esc.create(i);
    await escClient({ ...i, environment: i.name }).remove();
    const error = await rejection(esc.update(key(i), outs as EscEnvironmentOutputs, i));
    expect(error).to.be.instanceOf(EscError);
    expect(error.message).to.equal(
      `ESC environment ${key(i)} was deleted outside Pulumi; run \`pulumi refresh\``,
    );
    expect(await esc.read(key(i), outs as EscEnvironmentOutputs)).to.deep.equal({
      id: undefined,
      props: {},
    });
  });

  it("an environment that vanishes right after a write, or after its create, is an error", async () => {
    const gone = inputs(credentials);
    api.afterPatch = async (name) => {
      if (name !== key(gone)) return;
      api.afterPatch = undefined;
      await escClient({ ...gone, environment: gone.name }).remove();
    };
    const error = await rejection(esc.create(gone)).finally(() => (api.afterPatch = undefined));
    expect(error.message).to.equal("the environment disappeared right after it was written");

    const unseen = inputs(credentials);
    api.beforeRequest = (method, path) =>
      method === "GET" && path.endsWith(`/${unseen.name}`)
        ? { status: 404, message: "not found" }
        : undefined;
    const missing = await rejection(esc.create(unseen)).finally(
      () => (api.beforeRequest = undefined),
    );
    expect(missing.message).to.equal("the environment was not found right after it was created");
  });

  it("reads its own revision back only when someone wrote after it", async () => {
    const i = inputs(rotator());
    const { outs } = await esc.create(i);
    await esc.update(key(i), outs as EscEnvironmentOutputs, { ...i, yaml: rotator(6432) });
    const revisionReads = api.requests.filter(
      (r) => r.method === "GET" && r.path.includes(`/${i.name}/versions/`),
    );
    expect(revisionReads).to.deep.equal([]);
  });

  it("refresh of an environment that ESC holds as a document it cannot read says so", async () => {
    const i = inputs(credentials);
    const { outs } = await esc.create(i);
    api.write(key(i), aliases(100));
    const error = await rejection(esc.read(key(i), outs as EscEnvironmentOutputs));
    expect(error).to.be.instanceOf(EscError);
    expect(error.message).to.match(/^the environment as ESC stores it has too many aliases /);
  });

  it("create takes over an environment holding only empty values, never one ESC cannot read", async () => {
    const empty = inputs(credentials);
    api.write(key(empty), "values:\n  list: []\n  map: {}\n  nothing: null\n");
    await esc.create(empty);
    expect(parse(api.stored(key(empty))!).values.managingUser.username).to.equal(
      "rotation_manager",
    );
    // A list holding a null is not empty: only empty lists, empty mappings and nulls are.
    for (const yaml of ["values:\n  list: [1]\n", "values:\n  list: [null]\n", aliases(100)]) {
      const i = inputs(credentials);
      api.write(key(i), yaml);
      const error = await rejection(esc.create(i));
      expect(error.message, yaml).to.match(/already exists, and not as an earlier create/);
      expect(api.revisions(key(i)), yaml).to.have.length(1);
    }
  });

  it("a rotatorKey the document does not hold as a rotator: created and hashed like any document", async () => {
    const plain = "values:\n  greeting: hello\n  scalar: 1\n";
    for (const rotatorKey of ["dbRotator", "greeting", "scalar"]) {
      expect(esc.contentHash(plain, rotatorKey), rotatorKey).to.equal(esc.contentHash(plain));
      const i = inputs(plain, { rotatorKey });
      const { outs } = await esc.create(i);
      expect((outs as EscEnvironmentOutputs).contentHash, rotatorKey).to.equal(
        esc.contentHash(plain),
      );
    }
  });

  it("the hash leaves out the rotator's state, and only that; a document without stored state goes out as written", async () => {
    const plain = rotator();
    const stated = plain.concat("      state:\n        current:\n          username: app_user_1\n");
    expect(esc.contentHash(stated, "dbRotator")).to.equal(esc.contentHash(plain, "dbRotator"));
    expect(esc.contentHash(stated)).to.not.equal(esc.contentHash(plain));
    expect(esc.contentHash(rotator(6432), "dbRotator")).to.not.equal(
      esc.contentHash(plain, "dbRotator"),
    );

    // No stored state: the desired document goes out as written.
    const i = inputs(plain, { rotatorKey: "dbRotator" });
    const { outs } = await esc.create(i);
    const desired = rotator(6432);
    await esc.update(key(i), outs as EscEnvironmentOutputs, { ...i, yaml: desired });
    const patches = api.requests.filter((r) => r.method === "PATCH" && r.path.includes(i.name));
    expect(patches.at(-1)!.body).to.equal(desired);
  });
});
