import { expect } from "chai";
import { parse } from "yaml";
import {
  credentialsEnvironmentYaml,
  rotatorEnvironmentYaml,
  rotatorInputs,
  rotatorStateNode,
  secretsIn,
  stateFromOpenedValue,
  where,
  withRotatorInputs,
  withRotatorState,
} from "../../../provider/esc/documents";
import { SEED_CREDENTIALS, SEED_ROTATOR, seedYaml } from "../../fixtures/seed";
import { EscError } from "../../../provider/errors";

/** Every key path of a parsed document, in document order. */
function keyPaths(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [
    `${prefix}${k}`,
    ...keyPaths(v, `${prefix}${k}.`),
  ]);
}

describe("ESC environment documents", () => {
  it("builds the seed's credentials environment key for key, value for value", () => {
    const built = credentialsEnvironmentYaml(SEED_CREDENTIALS);
    const seed = parse(seedYaml("credentials"));
    expect(keyPaths(parse(built))).to.deep.equal(keyPaths(seed));
    expect(parse(built)).to.deep.equal(seed);
  });

  it("writes the login's subjectAttributes into its oidc block, in order, after the seed's keys", () => {
    const built = parse(
      credentialsEnvironmentYaml({
        ...SEED_CREDENTIALS,
        awsLogin: {
          ...SEED_CREDENTIALS.awsLogin!,
          subjectAttributes: ["rootEnvironment.name", "currentEnvironment.name"],
        },
      }),
    );
    expect(built.values.awsLogin).to.deep.equal({
      "fn::open::aws-login": {
        oidc: {
          duration: "1h",
          roleArn: "arn:aws:iam::1234567890:role/esc-rotator",
          sessionName: "pulumi-esc-secret-rotator",
          subjectAttributes: ["rootEnvironment.name", "currentEnvironment.name"],
        },
      },
    });
    expect(Object.keys(built.values.awsLogin["fn::open::aws-login"].oidc)).to.deep.equal([
      "duration",
      "roleArn",
      "sessionName",
      "subjectAttributes",
    ]);
    // An empty list is ESC's default subject: nothing is written.
    const empty = parse(
      credentialsEnvironmentYaml({
        ...SEED_CREDENTIALS,
        awsLogin: { ...SEED_CREDENTIALS.awsLogin!, subjectAttributes: [] },
      }),
    );
    expect(empty).to.deep.equal(parse(seedYaml("credentials")));
  });

  it("builds the seed's rotator environment key for key, value for value", () => {
    const built = rotatorEnvironmentYaml(SEED_ROTATOR);
    const seed = parse(seedYaml("rotator"));
    expect(keyPaths(parse(built))).to.deep.equal(keyPaths(seed));
    expect(parse(built)).to.deep.equal(seed);
    expect(built).to.include("login: ${environments.rotatorExample.managingCredentials.awsLogin}");
  });

  it("leaves out the connector block and awsLogin for a direct connection", () => {
    const { lambdaArn: _l, state: _s, ...direct } = SEED_ROTATOR;
    void _l;
    void _s;
    const rotator = parse(rotatorEnvironmentYaml(direct));
    const inputs = rotator.values.dbRotator["fn::rotate::postgres"].inputs;
    expect(Object.keys(inputs.database)).to.deep.equal([
      "database",
      "host",
      "port",
      "managingUser",
    ]);
    expect(rotator.values.dbRotator["fn::rotate::postgres"]).to.not.have.property("state");
    const credentials = parse(
      credentialsEnvironmentYaml({ managingUser: { username: "m", password: "p" } }),
    );
    expect(Object.keys(credentials.values)).to.deep.equal(["managingUser"]);
  });

  it("replaces the state and keeps the inputs, comments and other values", () => {
    const original = `# owned by the platform team\n${seedYaml("rotator")}  other: kept # note\n`;
    const next = withRotatorState(original, "dbRotator", {
      current: { username: "user2", password: "password-three" },
      previous: { username: "user1", password: "password-one" },
    });
    expect(next).to.include("# owned by the platform team");
    expect(next).to.include("other: kept # note");
    const doc = parse(next);
    expect(doc.values.dbRotator["fn::rotate::postgres"].inputs).to.deep.equal(
      parse(original).values.dbRotator["fn::rotate::postgres"].inputs,
    );
    expect(rotatorStateNode(next, "dbRotator")).to.deep.equal({
      current: { password: { "fn::secret": "password-three" }, username: "user2" },
      previous: { password: { "fn::secret": "password-one" }, username: "user1" },
    });
  });

  it("replaces the inputs and never touches a (newer) state", () => {
    const stored = seedYaml("rotator").replace(
      "fn::secret: password-one",
      "fn::secret:\n              ciphertext: ZXNjeAAAAAE=",
    );
    const next = withRotatorInputs(
      stored,
      "dbRotator",
      rotatorInputs({
        ...SEED_ROTATOR,
        rotateUsers: { username1: "user1", username2: "user2" },
        database: { ...SEED_ROTATOR.database, port: 6432 },
      }),
    );
    expect(rotatorStateNode(next, "dbRotator")).to.deep.equal(
      rotatorStateNode(stored, "dbRotator"),
    );
    expect(parse(next).values.dbRotator["fn::rotate::postgres"].inputs.database.port).to.equal(
      6432,
    );
  });

  it("reads the rotator's opened value as a state", () => {
    expect(stateFromOpenedValue(undefined)).to.equal(undefined);
    expect(stateFromOpenedValue({})).to.equal(undefined);
    expect(
      stateFromOpenedValue({
        current: { username: "user1", password: "a" },
        previous: { username: "user2" },
      }),
    ).to.deep.equal({
      current: { username: "user1", password: "a" },
      previous: { username: "user2" },
    });
    expect(() => stateFromOpenedValue({ current: { username: "u" } })).to.throw(EscError);
  });

  it("finds every plaintext fn::secret value, and none in ciphertext or unparsable text", () => {
    expect(secretsIn(rotatorEnvironmentYaml(SEED_ROTATOR)).sort()).to.deep.equal([
      "password-one",
      "password-two",
    ]);
    expect(secretsIn("values:\n  a:\n    fn::secret:\n      ciphertext: ZXNj\n")).to.deep.equal([]);
    expect(secretsIn("a: [")).to.deep.equal([]);
  });

  it("names where YAML is broken without quoting it (it may hold a secret)", () => {
    const broken = `values:\n  dbRotator:\n    fn::rotate::postgres:\n      state:\n        current:\n          password:\n            fn::secret: hunter2-very-secret: x\n`;
    let message = "";
    try {
      withRotatorState(broken, "dbRotator", SEED_ROTATOR.state!);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).to.match(
      /^the environment is not valid YAML: [A-Z_]+ at line \d+, column \d+$/,
    );
    expect(message).to.not.include("hunter2");
  });

  it("refuses to edit a document without the rotator", () => {
    expect(() => withRotatorState("values: {}\n", "dbRotator", SEED_ROTATOR.state!)).to.throw(
      EscError,
      /no values.dbRotator.fn::rotate::postgres/,
    );
  });
});

describe("documents: ESC's opened state read strictly", () => {
  it("reads none, a current alone, and a previous with or without its password", () => {
    expect(stateFromOpenedValue(undefined)).to.equal(undefined);
    expect(stateFromOpenedValue(null)).to.equal(undefined);
    expect(stateFromOpenedValue({})).to.equal(undefined);
    const current = { username: "a", password: "p" };
    expect(stateFromOpenedValue({ current })).to.deep.equal({ current });
    expect(stateFromOpenedValue({ current, previous: { password: "x" } })).to.deep.equal({
      current,
    });
    expect(stateFromOpenedValue({ current, previous: { username: "b" } })).to.deep.equal({
      current,
      previous: { username: "b" },
    });
    expect(
      stateFromOpenedValue({ current, previous: { username: "b", password: 5 } }),
    ).to.deep.equal({ current, previous: { username: "b" } });
    expect(
      stateFromOpenedValue({ current, previous: { username: "b", password: "q" } }),
    ).to.deep.equal({ current, previous: { username: "b", password: "q" } });
    for (const bad of [{ username: 1, password: "p" }, { username: "a" }, { password: "p" }]) {
      expect(() => stateFromOpenedValue({ current: bad }), JSON.stringify(bad)).to.throw(
        EscError,
        "the rotator's current credentials in ESC are incomplete",
      );
    }
  });

  it("writes a previous without a password as its name alone", () => {
    const yaml = rotatorEnvironmentYaml({
      credentials: { project: "p", environment: "c" },
      database: { host: "h", port: 5432, database: "d" },
      rotateUsers: { username1: "a", username2: "b" },
      state: { current: { username: "a", password: "p" }, previous: { username: "b" } },
    });
    expect(parse(yaml).values.dbRotator["fn::rotate::postgres"].state.previous).to.deep.equal({
      username: "b",
    });
  });

  it("finds fn::secret values inside lists too, and nothing in text that is not YAML", () => {
    expect(secretsIn("values:\n  list:\n    - fn::secret: in-a-list\n")).to.deep.equal([
      "in-a-list",
    ]);
    expect(secretsIn("values: [unclosed")).to.be.an("array");
  });

  it("says where a YAML error is by code and position, or by code alone", () => {
    expect(where({ code: "BAD", linePos: [{ line: 2, col: 3 }] })).to.equal(
      "BAD at line 2, column 3",
    );
    expect(where({ code: "BAD" })).to.equal("BAD");
    expect(where({ code: "BAD", linePos: [] })).to.equal("BAD");
  });

  it("refuses to put a value holding ${ into an environment (ESC would interpolate it)", () => {
    const state = { current: { username: "u1", password: "pa${ss}" } };
    expect(() =>
      rotatorEnvironmentYaml({ ...SEED_ROTATOR, state } as Parameters<
        typeof rotatorEnvironmentYaml
      >[0]),
    ).to.throw(EscError, /interpolation/);
    expect(() =>
      credentialsEnvironmentYaml({ managingUser: { username: "m${x}", password: "p" } }),
    ).to.throw(EscError, /the managing user's name holds/);
    expect(() =>
      rotatorEnvironmentYaml({
        ...SEED_ROTATOR,
        database: { ...SEED_ROTATOR.database, host: "${environments.x.y}" },
      } as Parameters<typeof rotatorEnvironmentYaml>[0]),
    ).to.throw(EscError, /the database host holds/);
  });
});
