/** provider/errors.ts: one class per failure, and redaction that finds escaped forms too. */
import { expect } from "chai";
import * as errors from "../../provider/errors";
import { redact, sanitizeCause } from "../../provider/errors";

describe("errors", () => {
  it("gives every failure its own class, named, under RotationError", () => {
    const classes = Object.entries(errors).filter(
      ([, v]) => typeof v === "function" && /Error$/.test((v as { name: string }).name),
    ) as [string, new (...args: never[]) => Error][];
    expect(classes.length).to.be.at.least(15);
    for (const [name, Class] of classes) {
      const instance =
        name === "ValidationError"
          ? new (Class as never as new (p: string[]) => Error)(["x"])
          : new (Class as never as new (m: string) => Error)("x");
      expect(instance.name).to.equal(name);
      expect(instance).to.be.instanceOf(errors.RotationError);
    }
  });

  it("redacts every occurrence of a secret, longest first", () => {
    expect(redact("pw=abc, again abc; abcdef", ["abc", "abcdef"])).to.equal(
      "pw=[redacted], again [redacted]; [redacted]",
    );
    expect(redact("nothing here", [undefined, null, ""])).to.equal("nothing here");
  });

  it("redacts a secret also where JSON, YAML or SQL escaped it", () => {
    const secret = `it's "quoted" \\ and\nnew`;
    const forms = [
      JSON.stringify({ password: secret }), // JSON / YAML double-quoted
      `password: '${secret.replace(/'/g, "''")}'`, // YAML or SQL single-quoted
      `plain ${secret}`,
    ];
    for (const text of forms) {
      const out = redact(text, [secret]);
      expect(out).to.include("[redacted]");
      expect(out).to.not.include("quoted");
    }
  });

  it("keeps a lower error as a redacted copy: name, code, message, no stack from elsewhere", () => {
    const lower = Object.assign(new TypeError("failed for s3cr3t-value"), { code: "E_X" });
    const copy = sanitizeCause(lower, ["s3cr3t-value"]);
    expect(copy.message).to.equal("failed for [redacted]");
    expect(copy.name).to.equal("TypeError");
    expect((copy as { code?: string }).code).to.equal("E_X");
    expect(copy.stack).to.equal("TypeError: failed for [redacted]");
  });
});

describe("errors: exact messages and copies", () => {
  it("words one problem inline and several as a list", () => {
    expect(new errors.ValidationError(["a is wrong"]).message).to.equal(
      "invalid input: a is wrong",
    );
    expect(new errors.ValidationError(["a", "b"]).message).to.equal("invalid input:\n  - a\n  - b");
    expect(new errors.ValidationError(["a", "b"]).problems).to.deep.equal(["a", "b"]);
  });

  it("redacts the JSON-escaped form of a secret by itself", () => {
    const secret = 'a"b\\c';
    expect(redact(`{"p":${JSON.stringify(secret)}}`, [secret])).to.equal('{"p":"[redacted]"}');
    expect(redact(`x 'a''b' y`, ["a'b"])).to.equal("x '[redacted]' y");
  });

  it("keeps a string code only, and copies a non-Error as its text", () => {
    const numeric = sanitizeCause(Object.assign(new Error("m"), { code: 42 }), []);
    expect(numeric).to.not.have.property("code");
    const text = sanitizeCause("plain failure s3cr3t", ["s3cr3t"]);
    expect(text.message).to.equal("plain failure [redacted]");
    expect(text.name).to.equal("Error");
    expect(new errors.AuthenticationError("u", "m").username).to.equal("u");
    expect(new errors.EscError("m", { status: 409 }).status).to.equal(409);
    expect(new errors.EscError("m").status).to.equal(undefined);
  });
});
