/**
 * Hostile input to every input of `EscEnvironment`, through its provider, against the ESC
 * stand-in: names that would change the API path or widen an IAM subject, YAML that is not a
 * document, odd URLs and tokens are refused by `check`, `create` and `update` before any request
 * reaches the stand-in; hostile YAML content is stored exactly as written.
 */
import { expect } from "chai";
import { parse } from "yaml";
import * as esc from "../../../provider/escEnvironment/handlers";
import type {
  EscEnvironmentInputs,
  EscEnvironmentOutputs,
} from "../../../provider/escEnvironment/handlers";
import { credentialsEnvironmentYaml } from "../../../provider/esc/documents";
import { escClient } from "../../../provider/esc/client";
import { EscError, ValidationError } from "../../../provider/errors";
import { ESC_TOKEN, startEscStandIn, type EscStandIn } from "../../support/escStandIn";
import { expectNoSecrets, rejection, renderings } from "../../support/secrets";

describe("EscEnvironment hostile inputs (local ESC stand-in)", () => {
  let api: EscStandIn;
  let counter = 0;
  before(async () => (api = await startEscStandIn()));
  after(() => api?.close());

  function inputs(extra: Record<string, unknown> = {}): EscEnvironmentInputs {
    counter += 1;
    return {
      organization: "acme",
      project: "payments",
      name: `hostile-${counter}`,
      yaml: "values:\n  greeting: hello\n",
      accessToken: ESC_TOKEN,
      apiUrl: api.url,
      ...extra,
    } as EscEnvironmentInputs;
  }

  const REFUSED: [string, Record<string, unknown>, RegExp][] = [
    ["an organization wildcard", { organization: "*" }, /^organization must be/],
    ["an organization with a newline", { organization: "acme\nevil" }, /^organization must be/],
    ["a project with a colon", { project: "payments:*" }, /^project must be/],
    ["a project with a question mark", { project: "pay?" }, /^project must be/],
    ["a name that climbs the API path", { name: "../../other/env" }, /^name must be/],
    ["a name with a slash", { name: "payments/db" }, /^name must be/],
    ["a name with a query string", { name: "db?force=true" }, /^name must be/],
    ["a name with a newline and YAML", { name: "db\nvalues: {}" }, /^name must be/],
    ["a name with a space", { name: "db rotator" }, /^name must be/],
    ["a name of 101 characters", { name: "n".repeat(101) }, /^name must be 1-100/],
    ["a name starting with a dot", { name: ".hidden" }, /^name must be/],
    ["an empty name", { name: "" }, /^name must be/],
    ["a non-ASCII name", { name: "dé" }, /^name must be/],
    ["a name that is a number", { name: 42 }, /^name must be/],
    ["YAML that does not parse", { yaml: "values: [unclosed" }, /^yaml is not valid YAML/],
    ["YAML with a tab indent", { yaml: "values:\n\tkey: v\n" }, /^yaml is not valid YAML/],
    ["YAML that is a list", { yaml: "- values\n- x\n" }, /^yaml must be a mapping/],
    ["YAML that is a scalar", { yaml: "just text" }, /^yaml must be a mapping/],
    ["yaml that is not text", { yaml: { values: {} } }, /^yaml must be a string/],
    ["a javascript: apiUrl", { apiUrl: "javascript:alert(1)" }, /^apiUrl must be an http/],
    ["a file: apiUrl", { apiUrl: "file:///etc/passwd" }, /^apiUrl must be an http/],
    ["an apiUrl with a space", { apiUrl: "http://a b" }, /^apiUrl must be an http/],
    ["an empty token", { accessToken: "" }, /^accessToken must be a non-empty string/],
    ["a token of whitespace only", { accessToken: "\r\n" }, /^accessToken must be a non-empty/],
    ["a token that is not text", { accessToken: 12345 }, /^accessToken must be/],
  ];

  for (const [label, patch, message] of REFUSED) {
    it(`refuses ${label} before any request`, async () => {
      const bad = inputs(patch);
      const checked = await esc.check({}, bad as unknown as Record<string, unknown>);
      expect(checked.failures!.map((f) => f.reason).join("\n")).to.match(message);
      const start = api.requests.length;
      const created = await rejection(esc.create(bad));
      expect(created).to.be.instanceOf(ValidationError);
      expect(created.message).to.match(new RegExp(message.source.replace("^", "")));
      expect(api.requests.length - start, "requests by the refused create").to.equal(0);
      // The same on update, from a real environment's outputs.
      const good = inputs();
      const { outs } = await esc.create(good);
      const afterCreate = api.requests.length;
      const updated = await rejection(
        esc.update(good.name, outs as EscEnvironmentOutputs, { ...good, ...patch } as never),
      );
      expect(updated).to.be.instanceOf(ValidationError);
      expect(api.requests.length - afterCreate, "requests by the refused update").to.equal(0);
      expectNoSecrets(renderings(created) + renderings(updated), [ESC_TOKEN]);
    });
  }

  const STORED: [string, string][] = [
    [
      "a password of quotes, backslashes, a newline and YAML syntax",
      credentialsEnvironmentYaml({
        managingUser: { username: `m'"\\`, password: "p'\"\\\n$environments.x.y: [&a *a]" },
      }),
    ],
    ["a megabyte of YAML", `values:\n  big: "${"x".repeat(1 << 20)}"\n`],
    ["an empty document", ""],
    ["keys of every script", "values:\n  用户: 1\n  \"🔑\": 2\n  'a: b': 3\n"],
  ];
  for (const [label, yaml] of STORED) {
    it(`stores ${label} exactly as written`, async () => {
      const i = inputs({ yaml });
      await esc.create(i);
      const stored = api.stored(`acme/payments/${i.name}`) ?? "";
      // ESC keeps secrets encrypted; everything else is the document as given.
      const strip = (text: string) => JSON.stringify(parse(text)?.values ?? null);
      if (yaml.includes("fn::secret")) {
        const opened = await escClient({ ...i, environment: i.name }).openValue("managingUser");
        const { username, password } = parse(yaml).values.managingUser;
        expect(opened).to.deep.equal({ username, password: password["fn::secret"] });
      } else {
        expect(strip(stored)).to.equal(strip(yaml));
      }
    });
  }

  it("refuses to write a value holding ${…} into a document (ESC would interpolate it)", () => {
    expect(() =>
      credentialsEnvironmentYaml({
        managingUser: { username: "m", password: "p${environments.x.y}" },
      }),
    ).to.throw(EscError, /interpolation/);
  });

  it("names the environment in the API path only as given: one request path per step", async () => {
    const i = inputs({ name: "a.b_c-D9" });
    const start = api.requests.length;
    await esc.create(i);
    const paths = new Set(api.requests.slice(start).map((r) => r.path.split("?")[0]));
    for (const path of paths) {
      expect(path).to.match(/^\/api\/esc\/environments\/acme(\/payments\/a\.b_c-D9(\/.*)?)?$/);
    }
  });
});
