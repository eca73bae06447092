import { expect } from "chai";
import { scramSha256Verifier } from "../../../provider/core/scram";
import { alterPasswordSql, lockKeyText, quoteIdentifier } from "../../../provider/postgres/sql";

describe("sql", () => {
  it("quotes identifiers by doubling quotes", () => {
    expect(quoteIdentifier("app")).to.equal('"app"');
    expect(quoteIdentifier('we"ird')).to.equal('"we""ird"');
    expect(quoteIdentifier('x"; DROP ROLE y; --')).to.equal('"x""; DROP ROLE y; --"');
    expect(() => quoteIdentifier("")).to.throw(RangeError);
    expect(() => quoteIdentifier("a\0")).to.throw(RangeError);
  });

  it("builds ALTER ROLE with a verifier and never with anything else", () => {
    const verifier = scramSha256Verifier("pw");
    expect(alterPasswordSql('A"b', verifier)).to.equal(`ALTER ROLE "A""b" PASSWORD '${verifier}'`);
    for (const bad of ["", "pw", "md5abcdef", `${verifier}'`, null as unknown as string]) {
      expect(() => alterPasswordSql("a", bad)).to.throw(RangeError, /malformed verifier/);
    }
  });

  it("keys the lock by the role, unambiguously", () => {
    expect(lockKeyText("a")).to.equal(lockKeyText("a"));
    expect(lockKeyText("a")).to.not.equal(lockKeyText("b"));
    expect(lockKeyText('a","b')).to.not.equal(lockKeyText("a"));
  });
});
