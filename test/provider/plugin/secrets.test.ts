/** The plugin's one place for secrets: unwrapping what the engine sends, wrapping what leaves. */
import { expect } from "chai";
import {
  SECRET_SIG,
  SIG_KEY,
  isWrappedSecret,
  secretPaths,
  unwrapSecrets,
  withSecrets,
  wrapSecret,
} from "../../../provider/plugin/secrets";

const secret = (value: unknown) => ({ [SIG_KEY]: SECRET_SIG, value });

describe("plugin secrets", () => {
  it("uses the engine's signature", () => {
    expect(SIG_KEY).to.equal("4dabf18193072939515e22adb298388d");
    expect(SECRET_SIG).to.equal("1b47061264138c4ac30d75fd1eb44270");
    expect(isWrappedSecret(secret("x"))).to.equal(true);
    expect(isWrappedSecret({ [SIG_KEY]: "another signature", value: "x" })).to.equal(false);
    expect(isWrappedSecret(null)).to.equal(false);
  });

  it("unwraps secrets at any depth, in objects and arrays, nested wrappers included", () => {
    const sent = {
      database: { host: "db", managingUser: { username: "m", password: secret("pw") } },
      state: secret({ current: { username: "a", password: "p1" } }),
      list: [secret("one"), "two", secret(secret("three"))],
      port: 5432,
    };
    expect(unwrapSecrets(sent)).to.deep.equal({
      database: { host: "db", managingUser: { username: "m", password: "pw" } },
      state: { current: { username: "a", password: "p1" } },
      list: ["one", "two", "three"],
      port: 5432,
    });
  });

  it("finds the path of every secret", () => {
    const sent = {
      database: { managingUser: { password: secret("pw") } },
      accessToken: secret("t"),
      list: ["a", secret("b")],
    };
    expect(secretPaths(sent)).to.deep.equal([
      ["database", "managingUser", "password"],
      ["accessToken"],
      ["list", "1"],
    ]);
  });

  it("wraps the named outputs and whatever was secret in the inputs, adding nothing", () => {
    const outputs = {
      current: { username: "a", password: "p1" },
      currentUsername: "a",
      database: { host: "db", managingUser: { username: "m", password: "pw" } },
      esc: { organization: "acme" },
    };
    const inputs = {
      database: { managingUser: { password: secret("pw") } },
      esc: { accessToken: secret("t") },
      state: secret({}),
    };
    const result = withSecrets(outputs, ["current", "previous"], inputs);
    expect(result).to.deep.equal({
      current: secret({ username: "a", password: "p1" }),
      currentUsername: "a",
      database: { host: "db", managingUser: { username: "m", password: secret("pw") } },
      esc: { organization: "acme" },
    });
    // The handler's outputs are not changed in place.
    expect(outputs.database.managingUser.password).to.equal("pw");
    expect(wrapSecret(result.current)).to.equal(result.current);
  });
});
