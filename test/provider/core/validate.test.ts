import { expect } from "chai";
import { ValidationError } from "../../../provider/errors";
import { pairRequestProblems } from "../../../provider/core/userPair";
import type { RotationInputs } from "../../../provider/core/types";
import {
  UNKNOWN,
  escLocationProblems,
  findUnknown,
  inputProblems,
  regionOfLambdaArn,
  resolveDatabase,
  resolveInputs,
} from "../../../provider/core/validate";

const SECRET = "s3cret-Manager-pw";

function inputs(overrides: Record<string, unknown> = {}): RotationInputs {
  return {
    database: {
      host: "db.internal",
      database: "app",
      managingUser: { username: "rotation_manager", password: SECRET },
    },
    rotateUsers: { username1: "app_1", username2: "app_2" },
    ...overrides,
  } as RotationInputs;
}

function withDatabase(overrides: Record<string, unknown>): RotationInputs {
  return inputs({ database: { ...inputs().database, ...overrides } });
}

describe("resolveInputs", () => {
  it("fills in secure defaults", () => {
    const resolved = resolveInputs(inputs());
    expect(resolved.database.port).to.equal(5432);
    expect(resolved.database.ssl).to.deep.equal({ mode: "verify-full" });
    expect(resolved.passwordPolicy.length).to.equal(32);
    expect(resolved.scramIterations).to.equal(4096);
    expect(resolved.timeouts).to.deep.equal({
      connectSeconds: 10,
      statementSeconds: 30,
      lockSeconds: 60,
    });
    expect(resolved.liveSessions).to.equal("refuse");
    expect(resolved.ownership).to.equal("warn");
  });

  it("keeps given values", () => {
    const resolved = resolveInputs(
      inputs({
        database: { ...inputs().database, port: 6543, ssl: { mode: "require" } },
        timeouts: { connectSeconds: 3 },
        scramIterations: 10000,
      }),
    );
    expect(resolved.database.port).to.equal(6543);
    expect(resolved.database.ssl.mode).to.equal("require");
    expect(resolved.timeouts.connectSeconds).to.equal(3);
    expect(resolved.timeouts.lockSeconds).to.equal(60);
    expect(resolved.scramIterations).to.equal(10000);
  });

  const bad: [string, RotationInputs, RegExp][] = [
    ["empty host", withDatabase({ host: "" }), /database\.host must be a non-empty/],
    ["URL as host", withDatabase({ host: "postgres://u:pw@h/db" }), /not a URL/],
    [
      "host longer than a DNS name",
      withDatabase({ host: `${"a".repeat(250)}.com` }),
      /database\.host is 254 characters long; a host name is at most 253/,
    ],
    ["port 0", withDatabase({ port: 0 }), /database\.port must be a whole number from 1 to 65535/],
    ["port 65536", withDatabase({ port: 65536 }), /database\.port/],
    ["port 5432.5", withDatabase({ port: 5432.5 }), /database\.port/],
    ["empty database", withDatabase({ database: "" }), /database\.database must be a non-empty/],
    [
      "missing managing user",
      withDatabase({ managingUser: undefined }),
      /managingUser is required/,
    ],
    [
      "empty managing password",
      withDatabase({ managingUser: { username: "m", password: "" } }),
      /managingUser\.password must be a non-empty/,
    ],
    ["unknown ssl mode", withDatabase({ ssl: { mode: "prefer" } }), /ssl\.mode must be one of/],
    ["non-PEM CA", withDatabase({ ssl: { mode: "verify-full", ca: "hello" } }), /PEM/],
    [
      "CA with disable",
      withDatabase({ ssl: { mode: "disable", ca: "-----BEGIN CERTIFICATE-----\n" } }),
      /no effect/,
    ],
    [
      "empty username1",
      inputs({ rotateUsers: { username1: "", username2: "b" } }),
      /username1 must be/,
    ],
    [
      "64-byte username",
      inputs({ rotateUsers: { username1: "é".repeat(32), username2: "b" } }),
      /64 bytes long; PostgreSQL names are at most 63 bytes/,
    ],
    ["NUL in username", inputs({ rotateUsers: { username1: "a\0b", username2: "b" } }), /NUL/],
    [
      "same users",
      inputs({ rotateUsers: { username1: "a", username2: "a" } }),
      /two different roles/,
    ],
    [
      "manager rotated",
      inputs({ rotateUsers: { username1: "app_1", username2: "rotation_manager" } }),
      /username2 must not be the managing user/,
    ],
    [
      "state of another pair",
      inputs({ state: { current: { username: "intruder", password: "p" } } }),
      /state\.current\.username "intruder" is neither/,
    ],
    [
      "state with previous equal to current",
      inputs({
        state: { current: { username: "app_1", password: "p" }, previous: { username: "app_1" } },
      }),
      /must differ/,
    ],
    [
      "state without password",
      inputs({ state: { current: { username: "app_1", password: "" } } }),
      /state\.current\.password must be a non-empty/,
    ],
    [
      "object trigger",
      inputs({ rotationTrigger: { a: 1 } }),
      /rotationTrigger must be a string or a number/,
    ],
    ["short passwords", inputs({ passwordPolicy: { length: 8 } }), /passwordPolicy\.length/],
    [
      "few iterations",
      inputs({ scramIterations: 100 }),
      /scramIterations must be a whole number from 4096/,
    ],
    ["zero timeout", inputs({ timeouts: { connectSeconds: 0 } }), /timeouts\.connectSeconds/],
  ];

  for (const [label, value, message] of bad) {
    it(`refuses ${label} with a message naming the input`, () => {
      let thrown: unknown;
      try {
        resolveInputs(value);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(ValidationError);
      const error = thrown as ValidationError;
      expect(error.message).to.match(message);
      expect(error.message).to.not.include(SECRET);
      expect(error.problems).to.have.length.greaterThan(0);
    });
  }

  it("reports every problem at once", () => {
    const problems = inputProblems(
      inputs({
        database: { host: "", port: 0, database: "", managingUser: { username: "", password: "" } },
      }),
    );
    expect(problems).to.have.length(5);
  });

  it("never repeats a password, whatever is wrong", () => {
    const weird = inputs({
      database: {
        host: SECRET + "/",
        database: "app",
        managingUser: { username: "m", password: SECRET },
      },
      state: { current: { username: "app_1", password: SECRET + "\0" } },
    });
    for (const problem of inputProblems(weird)) expect(problem).to.not.include(SECRET);
  });

  it("skips values not known yet during a preview, but refuses them for a rotation", () => {
    const previewing = withDatabase({ host: UNKNOWN, managingUser: UNKNOWN });
    expect(inputProblems(previewing)).to.deep.equal([]);
    expect(() => resolveInputs(previewing)).to.throw(
      ValidationError,
      /database\.host is not known yet/,
    );
  });
});

/** Hostile inputs at the unit level: for each, exactly the problems reported (or none). */
describe("inputProblems on hostile input, every problem exact", () => {
  const hostileBase = () => ({
    database: {
      host: "db.internal",
      database: "app",
      managingUser: { username: "rotation_manager", password: SECRET },
    },
    rotateUsers: { username1: "app_1", username2: "app_2" },
  });
  const ARN = "arn:aws:lambda:us-east-1:123456789012:function:rotator";
  const db = (p: object) => ({ ...hostileBase(), database: { ...hostileBase().database, ...p } });
  const lambda = (p: object) => db({ connector: { awsLambda: { lambdaArn: ARN, ...p } } });
  const esc = (p: object) => ({
    ...hostileBase(),
    esc: { organization: "acme", project: "payments", environment: "db-rotator", ...p },
  });
  const CASES: [string, unknown, string[]][] = [
    [
      "database missing",
      { ...hostileBase(), database: undefined },
      ["database is required: {host, port, database, managingUser}"],
    ],
    [
      "database a string",
      { ...hostileBase(), database: "postgres://x" },
      ["database is required: {host, port, database, managingUser}"],
    ],
    [
      "managingUser a string",
      db({ managingUser: "u:p" }),
      ["database.managingUser is required: {username, password}"],
    ],
    [
      "ssl with a connector",
      db({ ssl: { mode: "disable" }, connector: { awsLambda: { lambdaArn: ARN } } }),
      [
        "database.ssl has no effect with database.connector: the connector Lambda's own setting (PGSSLMODE, verify-full by default) decides TLS; remove database.ssl",
      ],
    ],
    [
      "ssl not an object",
      db({ ssl: "verify-full" }),
      ["database.ssl must be an object {mode, ca?}"],
    ],
    [
      "ssl mode prefer",
      db({ ssl: { mode: "prefer" } }),
      ["database.ssl.mode must be one of disable, require, verify-ca, verify-full"],
    ],
    [
      "ssl ca not PEM",
      db({ ssl: { mode: "verify-ca", ca: "abc" } }),
      ["database.ssl.ca must be PEM text holding one or more certificates"],
    ],
    [
      "ssl ca with disable",
      db({ ssl: { mode: "disable", ca: "-----BEGIN CERTIFICATE-----\nx" } }),
      ['database.ssl.ca has no effect with mode "disable"'],
    ],
    [
      "ssl ca a number",
      db({ ssl: { mode: "verify-ca", ca: 5 } }),
      ["database.ssl.ca must be PEM text holding one or more certificates"],
    ],
    [
      "connector a string",
      db({ connector: "lambda" }),
      ["database.connector must be {awsLambda: {lambdaArn, region?, roleArn?, endpoint?}}"],
    ],
    [
      "connector without awsLambda",
      db({ connector: {} }),
      ["database.connector must be {awsLambda: {lambdaArn, region?, roleArn?, endpoint?}}"],
    ],
    [
      "lambdaArn missing",
      db({ connector: { awsLambda: {} } }),
      [
        "database.connector.awsLambda.lambdaArn must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)",
      ],
    ],
    [
      "lambdaArn wildcard",
      lambda({ lambdaArn: "arn:aws:lambda:us-east-1:123456789012:function:*" }),
      [
        "database.connector.awsLambda.lambdaArn must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)",
      ],
    ],
    [
      "lambdaArn bad account",
      lambda({ lambdaArn: "arn:aws:lambda:us-east-1:12345:function:f" }),
      [
        "database.connector.awsLambda.lambdaArn must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)",
      ],
    ],
    [
      "lambdaArn name 65",
      lambda({ lambdaArn: `arn:aws:lambda:us-east-1:123456789012:function:${"f".repeat(65)}` }),
      [
        "database.connector.awsLambda.lambdaArn must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)",
      ],
    ],
    [
      "region with newline",
      lambda({ region: "us-east-1\n" }),
      ["database.connector.awsLambda.region must be an AWS region such as us-east-1"],
    ],
    [
      "region upper",
      lambda({ region: "US-EAST-1" }),
      ["database.connector.awsLambda.region must be an AWS region such as us-east-1"],
    ],
    [
      "roleArn wildcard account",
      lambda({ roleArn: "arn:aws:iam::*:role/x" }),
      [
        "database.connector.awsLambda.roleArn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
      ],
    ],
    [
      "roleArn user",
      lambda({ roleArn: "arn:aws:iam::123456789012:user/x" }),
      [
        "database.connector.awsLambda.roleArn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
      ],
    ],
    [
      "endpoint file",
      lambda({ endpoint: "file:///etc/passwd" }),
      ["database.connector.awsLambda.endpoint must be an http(s) URL"],
    ],
    [
      "endpoint with space",
      lambda({ endpoint: "https://a b" }),
      ["database.connector.awsLambda.endpoint must be an http(s) URL"],
    ],
    [
      "endpoint number",
      lambda({ endpoint: 443 }),
      ["database.connector.awsLambda.endpoint must be an http(s) URL"],
    ],
    [
      "esc a string",
      { ...hostileBase(), esc: "acme/payments/db" },
      ["esc must be {organization, project, environment, key?, accessToken?, apiUrl?}"],
    ],
    [
      "esc org wildcard",
      esc({ organization: "*" }),
      ["esc.organization must be 1-100 letters, digits, '.', '_' or '-'"],
    ],
    [
      "esc project colon",
      esc({ project: "a:b" }),
      ["esc.project must be 1-100 letters, digits, '.', '_' or '-'"],
    ],
    [
      "esc env 101",
      esc({ environment: "e".repeat(101) }),
      ["esc.environment must be 1-100 letters, digits, '.', '_' or '-'"],
    ],
    [
      "esc env leading dash",
      esc({ environment: "-e" }),
      ["esc.environment must be 1-100 letters, digits, '.', '_' or '-'"],
    ],
    [
      "esc key yaml",
      esc({ key: "a: b" }),
      ["esc.key must be a YAML key of letters, digits, '_' or '-'"],
    ],
    [
      "esc key leading digit",
      esc({ key: "1key" }),
      ["esc.key must be a YAML key of letters, digits, '_' or '-'"],
    ],
    [
      "esc key number",
      esc({ key: 5 }),
      ["esc.key must be a YAML key of letters, digits, '_' or '-'"],
    ],
    ["esc token empty", esc({ accessToken: "" }), ["esc.accessToken must be a non-empty string"]],
    ["esc token number", esc({ accessToken: 5 }), ["esc.accessToken must be a non-empty string"]],
    [
      "esc token of whitespace",
      esc({ accessToken: " \n" }),
      ["esc.accessToken must be a non-empty string"],
    ],
    ["esc apiUrl ftp", esc({ apiUrl: "ftp://x" }), ["esc.apiUrl must be an http(s) URL"]],
    ["esc apiUrl number", esc({ apiUrl: 5 }), ["esc.apiUrl must be an http(s) URL"]],
    [
      "rotateUsers missing",
      { ...hostileBase(), rotateUsers: undefined },
      ["rotateUsers is required: {username1, username2}"],
    ],
    [
      "both users manager",
      {
        ...hostileBase(),
        rotateUsers: { username1: "rotation_manager", username2: "rotation_manager" },
      },
      [
        "rotateUsers.username1 and rotateUsers.username2 must be two different roles",
        "rotateUsers.username1 must not be the managing user: rotating it would lock the rotator out",
        "rotateUsers.username2 must not be the managing user: rotating it would lock the rotator out",
      ],
    ],
    [
      "username2 manager",
      { ...hostileBase(), rotateUsers: { username1: "a", username2: "rotation_manager" } },
      [
        "rotateUsers.username2 must not be the managing user: rotating it would lock the rotator out",
      ],
    ],
    // What the engine sends for `state: users.initialState` when the pair has none.
    ["state null (no state)", { ...hostileBase(), state: null }, []],
    [
      "state not an object",
      { ...hostileBase(), state: "app_1" },
      ["state must be an object {current, previous?}"],
    ],
    [
      "state current missing",
      { ...hostileBase(), state: {} },
      ["state.current is required: {username, password}"],
    ],
    [
      "state foreign current",
      { ...hostileBase(), state: { current: { username: "zed", password: "p" } } },
      ['state.current.username "zed" is neither rotateUsers.username1 nor username2'],
    ],
    [
      "state previous foreign",
      {
        ...hostileBase(),
        state: { current: { username: "app_1", password: "p" }, previous: { username: "zed" } },
      },
      ['state.previous.username "zed" is neither rotateUsers.username1 nor username2'],
    ],
    [
      "state previous same",
      {
        ...hostileBase(),
        state: { current: { username: "app_1", password: "p" }, previous: { username: "app_1" } },
      },
      ["state.previous.username must differ from state.current.username"],
    ],
    [
      "state previous not object",
      {
        ...hostileBase(),
        state: { current: { username: "app_1", password: "p" }, previous: "app_2" },
      },
      ["state.previous must be an object {username, password?}"],
    ],
    [
      "state previous password NUL",
      {
        ...hostileBase(),
        state: {
          current: { username: "app_1", password: "p" },
          previous: { username: "app_2", password: "\0" },
        },
      },
      ["state.previous.password must not contain a NUL character"],
    ],
    [
      "state previous password undefined",
      {
        ...hostileBase(),
        state: { current: { username: "app_1", password: "p" }, previous: { username: "app_2" } },
      },
      [],
    ],
    [
      "trigger NaN",
      { ...hostileBase(), rotationTrigger: NaN },
      ["rotationTrigger must be a string or a number"],
    ],
    [
      "trigger object",
      { ...hostileBase(), rotationTrigger: {} },
      ["rotationTrigger must be a string or a number"],
    ],
    [
      "live sessions bad",
      { ...hostileBase(), liveSessions: "always" },
      ["liveSessions must be one of refuse, warn, ignore"],
    ],
    ...[-1, 1.5, "600", 2_592_001, null, NaN].map((bad): [string, unknown, string[]] => [
      `live-session idle window ${String(bad)}`,
      { ...hostileBase(), liveSessionsIdleSeconds: bad },
      ["liveSessionsIdleSeconds must be a whole number from 0 to 2592000"],
    ]),
    [
      "ownership bad",
      { ...hostileBase(), ownership: "refuses" },
      ["ownership must be one of warn, refuse, ignore"],
    ],
    [
      "ownership in capitals",
      { ...hostileBase(), ownership: "WARN" },
      ["ownership must be one of warn, refuse, ignore"],
    ],
    [
      "timeouts array",
      { ...hostileBase(), timeouts: [] },
      ["timeouts must be an object {connectSeconds?, statementSeconds?, lockSeconds?}"],
    ],
    [
      "timeouts zero",
      { ...hostileBase(), timeouts: { connectSeconds: 0 } },
      ["timeouts.connectSeconds must be a number of seconds above 0 and at most 3600"],
    ],
    [
      "timeouts 3601",
      { ...hostileBase(), timeouts: { statementSeconds: 3601 } },
      ["timeouts.statementSeconds must be a number of seconds above 0 and at most 3600"],
    ],
    ["timeouts 3600 ok", { ...hostileBase(), timeouts: { lockSeconds: 3600 } }, []],
    [
      "timeouts text",
      { ...hostileBase(), timeouts: { lockSeconds: "5" } },
      ["timeouts.lockSeconds must be a number of seconds above 0 and at most 3600"],
    ],
    [
      "policy string",
      { ...hostileBase(), passwordPolicy: "x" },
      ["passwordPolicy must be an object {length?, characters?}"],
    ],
    [
      "policy bits",
      { ...hostileBase(), passwordPolicy: { length: 16, characters: "0123456789" } },
      [
        "passwordPolicy gives about 53 bits of randomness; at least 96 are required (use more characters or a longer length)",
      ],
    ],
    [
      "iterations max+1",
      { ...hostileBase(), scramIterations: 100_001 },
      [
        "scramIterations must be at most 100000: node-postgres refuses, with its default scramMaxIterations (100,000), to log in with a verifier of more iterations, so apps on it could not use the password; set scramIterations to 100000 or less",
      ],
    ],
    [
      "iterations a fraction above max",
      { ...hostileBase(), scramIterations: 100_000.5 },
      ["scramIterations must be a whole number from 4096 to 100000"],
    ],
    ["iterations max ok", { ...hostileBase(), scramIterations: 100_000 }, []],
    ["port 65535 ok", db({ port: 65535 }), []],
    ["port 1 ok", db({ port: 1 }), []],
    [
      "host space",
      db({ host: " " }),
      ["database.host must be a non-empty host name or IP address"],
    ],
    [
      "host tab",
      db({ host: "a\tb" }),
      ["database.host must be a host name or IP address (no spaces, slashes or NUL)"],
    ],
    ["not an object", "inputs", ["inputs must be an object"]],
  ];

  for (const [label, value, problems] of CASES) {
    it(`${label}: ${problems.length === 0 ? "no problem" : problems.length + " problem(s)"}`, () => {
      expect(inputProblems(value)).to.deep.equal(problems);
    });
  }

  it("skips every value a preview does not know yet", () => {
    const unknown = {
      database: {
        host: UNKNOWN,
        port: UNKNOWN,
        database: UNKNOWN,
        managingUser: UNKNOWN,
        ssl: UNKNOWN,
      },
      rotateUsers: { username1: UNKNOWN, username2: UNKNOWN },
      state: { current: { username: UNKNOWN, password: UNKNOWN }, previous: UNKNOWN },
      esc: {
        organization: UNKNOWN,
        project: UNKNOWN,
        environment: UNKNOWN,
        key: UNKNOWN,
        accessToken: UNKNOWN,
        apiUrl: UNKNOWN,
      },
      rotationTrigger: UNKNOWN,
      passwordPolicy: UNKNOWN,
      scramIterations: UNKNOWN,
      timeouts: { connectSeconds: UNKNOWN },
      liveSessions: UNKNOWN,
      ownership: UNKNOWN,
    };
    expect(inputProblems(unknown)).to.deep.equal([]);
    expect(
      inputProblems({
        database: UNKNOWN,
        rotateUsers: UNKNOWN,
        state: UNKNOWN,
        esc: UNKNOWN,
        timeouts: UNKNOWN,
      }),
    ).to.deep.equal([]);
    expect(
      inputProblems({
        ...hostileBase(),
        database: {
          ...hostileBase().database,
          connector: {
            awsLambda: { lambdaArn: UNKNOWN, region: UNKNOWN, roleArn: UNKNOWN, endpoint: UNKNOWN },
          },
        },
      }),
    ).to.deep.equal([]);
  });
});

describe("the patterns behind the connector, ESC and name checks, at their edges", () => {
  const ARN = "arn:aws:lambda:us-east-1:123456789012:function:rotator";
  const lambdaProblems = (awsLambda: Record<string, unknown>) =>
    inputProblems({
      database: {
        host: "h",
        database: "d",
        managingUser: { username: "m", password: "p" },
        connector: { awsLambda: { lambdaArn: ARN, ...awsLambda } },
      },
      rotateUsers: { username1: "a", username2: "b" },
    });
  const escProblemsOf = (esc: Record<string, unknown>) =>
    inputProblems({
      database: { host: "h", database: "d", managingUser: { username: "m", password: "p" } },
      rotateUsers: { username1: "a", username2: "b" },
      esc: { organization: "o", project: "p", environment: "e", ...esc },
    });

  it("takes Lambda ARNs of every partition, with a version or alias, and nothing around them", () => {
    for (const lambdaArn of [
      ARN,
      "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:PROD",
      "arn:aws-cn:lambda:cn-north-1:123456789012:function:f:$LATEST",
      `arn:aws:lambda:ap-southeast-2:123456789012:function:${"f".repeat(64)}`,
    ]) {
      expect(lambdaProblems({ lambdaArn }), lambdaArn).to.deep.equal([]);
    }
    for (const lambdaArn of [
      `x${ARN}`,
      `${ARN} `,
      ARN.replace("us-east-1", "u-east-1"),
      ARN.replace("us-east-1", "us-1"),
      ARN.replace("us-east-1", "us-east-x"),
      ARN.replace("us-east-1", "US-east-1"),
      ARN.replace("us-east-1", "us-EAST-1"),
      ARN.replace("123456789012", "1"),
      ARN.replace("123456789012", "12345678901a"),
      ARN.replace("arn:aws:", "arn:aws1:"),
      `${ARN}:`,
      `${ARN}:${"v".repeat(129)}`,
    ]) {
      expect(lambdaProblems({ lambdaArn }), lambdaArn).to.have.length(1);
    }
    expect(regionOfLambdaArn(ARN)).to.equal("us-east-1");
    expect(regionOfLambdaArn("not an ARN")).to.equal("");
  });

  it("takes regions, role ARNs and endpoints exactly", () => {
    for (const ok of [
      { region: "eu-west-1" },
      { region: "us-gov-west-1" },
      { roleArn: "arn:aws:iam::123456789012:role/path/name+=,.@-_9" },
      { roleArn: `arn:aws-cn:iam::123456789012:role/${"r".repeat(512)}` },
      { endpoint: "https://vpce-1.lambda.us-east-1.vpce.amazonaws.com" },
      { endpoint: "http://localhost:4566/" },
    ]) {
      expect(lambdaProblems(ok), JSON.stringify(ok)).to.deep.equal([]);
    }
    for (const bad of [
      { region: "xeu-west-1" },
      { region: "eu-west-1x" },
      { region: "e-west-1" },
      { region: "eu-1" },
      { region: "eu-west-x" },
      { region: "EU-west-1" },
      { region: "eu-WEST-1" },
      { region: 1 },
      { roleArn: "xarn:aws:iam::123456789012:role/r" },
      { roleArn: "arn:aws:iam::123456789012:role/r r" },
      { roleArn: "arn:aws1:iam::123456789012:role/r" },
      { roleArn: "arn:aws:iam::12345678901:role/r" },
      { roleArn: "arn:aws:iam::12345678901a:role/r" },
      { roleArn: "arn:aws:iam::123456789012:role/" },
      { roleArn: `arn:aws:iam::123456789012:role/${"r".repeat(513)}` },
      { roleArn: "arn:aws:iam::123456789012:role/r!" },
      { endpoint: "xhttps://a" },
      { endpoint: "https://a b" },
      { endpoint: "https://" },
      { endpoint: "ftp://a" },
    ]) {
      expect(lambdaProblems(bad), JSON.stringify(bad)).to.have.length(1);
    }
  });

  it("takes ESC names of 1 to 100 letters, digits, '.', '_' and '-' not starting with one of the last three", () => {
    for (const environment of ["e", "ab", "A.b_c-9", "9".repeat(100)]) {
      expect(escProblemsOf({ environment }), environment).to.deep.equal([]);
    }
    for (const environment of ["", "!abc", "abc!", "-a", ".a", "a".repeat(101), "a b", 5]) {
      expect(escProblemsOf({ environment }), String(environment)).to.deep.equal([
        "esc.environment must be 1-100 letters, digits, '.', '_' or '-'",
      ]);
    }
    expect(escLocationProblems({ name: "ok" }, ["name"], "x.")).to.deep.equal([]);
    expect(escLocationProblems({ name: UNKNOWN, apiUrl: UNKNOWN }, ["name"])).to.deep.equal([]);
  });

  it("takes http(s) API URLs, YAML keys and tokens exactly", () => {
    for (const ok of [
      { apiUrl: "https://api.pulumi.com" },
      { apiUrl: "http://localhost:8080/base" },
      { key: "dbRotator" },
      { key: "_x" },
      { key: "a-b_1" },
      { accessToken: "t" },
    ]) {
      expect(escProblemsOf(ok), JSON.stringify(ok)).to.deep.equal([]);
    }
    for (const bad of [
      { apiUrl: "xhttps://a" },
      { apiUrl: "https://a b" },
      { apiUrl: "https://" },
      { apiUrl: "https://a\n" },
      { key: "1a" },
      { key: "a b" },
      { key: "a.b" },
      { key: "a:" },
      { accessToken: 0 },
    ]) {
      expect(escProblemsOf(bad), JSON.stringify(bad)).to.have.length(1);
    }
  });

  it("compares the pair to the manager only when the manager's name is known", () => {
    const problems = inputProblems({
      database: { host: "h", database: "d", managingUser: { password: "p" } },
      rotateUsers: { username2: "b" },
    });
    expect(problems.join("\n")).to.not.include("managing user");
  });

  it("checks a state against a pair that is partly unknown, and a state's usernames of any type", () => {
    const base = {
      database: { host: "h", database: "d", managingUser: { username: "m", password: "p" } },
    };
    expect(
      inputProblems({
        ...base,
        rotateUsers: { username1: UNKNOWN, username2: "b" },
        state: { current: { username: "zed", password: "p" }, previous: { username: "zod" } },
      }),
    ).to.deep.equal([]);
    expect(
      inputProblems({
        ...base,
        rotateUsers: { username1: "a", username2: "b" },
        state: { current: { username: 5, password: "p" }, previous: { username: 6 } },
      }),
    ).to.deep.equal([
      "state.current.username must be a non-empty string",
      "state.previous.username must be a non-empty string",
    ]);
    expect(
      inputProblems({
        ...base,
        rotateUsers: { username1: "a", username2: "b" },
        state: { current: { username: UNKNOWN, password: "p" }, previous: { username: UNKNOWN } },
      }),
    ).to.deep.equal([]);
    expect(
      inputProblems({ ...base, rotateUsers: "a,b", state: "not checked without a pair" }),
    ).to.deep.equal(["rotateUsers is required: {username1, username2}"]);
  });

  it("refuses a managing password pg cannot log in with, naming why", () => {
    expect(
      inputProblems({
        database: {
          host: "h",
          database: "d",
          managingUser: { username: "m", password: "caf\u00e9\u0007\u00ad" },
        },
        rotateUsers: { username1: "a", username2: "b" },
      }),
    ).to.deep.equal([
      "database.managingUser.password holds characters that SASLprep prohibits, for which " +
        "PostgreSQL checks the raw bytes while this package's client (pg) normalizes them, so no " +
        "login with it can succeed from here (libpq's can). Use a password without such " +
        "characters; rotating replaces it with a generated ASCII one",
    ]);
  });

  it("resolves every optional input it is given, and fills the rest", () => {
    const state = { current: { username: "a", password: "p" } };
    const esc = { organization: "o", project: "p", environment: "e" };
    const resolved = resolveInputs({
      database: {
        host: "h",
        database: "d",
        managingUser: { username: "m", password: "p" },
        connector: {
          awsLambda: {
            lambdaArn: ARN,
            region: "eu-west-1",
            roleArn: "arn:aws:iam::123456789012:role/r",
            endpoint: "https://e",
          },
        },
      },
      rotateUsers: { username1: "a", username2: "b" },
      state,
      esc,
      rotationTrigger: 0,
      liveSessions: "warn",
      ownership: "refuse",
      liveSessionsIdleSeconds: 0,
    });
    expect(resolved.liveSessionsIdleSeconds).to.equal(0);
    const minimal = {
      database: { host: "h", database: "d", managingUser: { username: "m", password: "p" } },
      rotateUsers: { username1: "a", username2: "b" },
    };
    expect(resolveInputs(minimal).liveSessionsIdleSeconds).to.equal(3600);
    expect(resolved.state).to.deep.equal(state);
    expect(resolved.esc).to.deep.equal(esc);
    expect(resolved.rotationTrigger).to.equal(0);
    expect(resolved.liveSessions).to.equal("warn");
    expect(resolved.ownership).to.equal("refuse");
    expect(resolved.database.connector).to.deep.equal({
      awsLambda: {
        lambdaArn: ARN,
        region: "eu-west-1",
        roleArn: "arn:aws:iam::123456789012:role/r",
        endpoint: "https://e",
      },
    });
    const withCa = resolveDatabase({
      host: "h",
      database: "d",
      managingUser: { username: "m", password: "p" },
      ssl: { mode: "verify-ca", ca: "-----BEGIN CERTIFICATE-----" },
    });
    expect(withCa.ssl).to.deep.equal({ mode: "verify-ca", ca: "-----BEGIN CERTIFICATE-----" });
    const plain = resolveInputs({
      database: { host: "h", database: "d", managingUser: { username: "m", password: "p" } },
      rotateUsers: { username1: "a", username2: "b" },
    });
    expect(plain).to.not.have.property("rotationTrigger");
    expect(plain).to.not.have.property("state");
    expect(plain).to.not.have.property("esc");
    expect(plain.database).to.not.have.property("connector");
  });

  it("names the first value still unknown by its path", () => {
    expect(findUnknown(UNKNOWN)).to.equal("inputs");
    expect(findUnknown({ a: { b: 1, c: UNKNOWN } })).to.equal("a.c");
    expect(findUnknown({ a: [1] })).to.equal(undefined);
    expect(findUnknown({ a: "x" })).to.equal(undefined);
  });
});

describe("inputProblems: the last shapes left unchecked at the unit level", () => {
  const base = {
    database: { host: "h", database: "d", managingUser: { username: "m", password: "p" } },
    rotateUsers: { username1: "a", username2: "b" },
  };
  const cases: [string, Record<string, unknown>, string[]][] = [
    [
      "state as a string",
      { ...base, state: "current" },
      ["state must be an object {current, previous?}"],
    ],
    [
      "the name public",
      { ...base, rotateUsers: { username1: "public", username2: "b" } },
      ['rotateUsers.username1 "public" is a name PostgreSQL reserves'],
    ],
    [
      "a 64-byte managing username",
      {
        ...base,
        database: { ...base.database, managingUser: { username: "m".repeat(64), password: "p" } },
      },
      ["database.managingUser.username is 64 bytes long; PostgreSQL names are at most 63 bytes"],
    ],
    [
      "a CA with verify-ca",
      {
        ...base,
        database: {
          ...base.database,
          ssl: { mode: "verify-ca", ca: "-----BEGIN CERTIFICATE-----\nx" },
        },
      },
      [],
    ],
  ];
  for (const [label, value, problems] of cases) {
    it(label, () => {
      expect(inputProblems(value)).to.deep.equal(problems);
    });
  }
  it("names the second user of a user-pair request", () => {
    expect(
      pairRequestProblems(
        { users: { username1: "a", username2: "" }, revokeOtherMembershipsOf: [] },
        "req",
      ),
    ).to.deep.equal(["req.users.username2 must be a non-empty string"]);
  });
});
