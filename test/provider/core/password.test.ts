import { expect } from "chai";
import {
  DEFAULT_PASSWORD_LENGTH,
  URL_SAFE_CHARACTERS,
  generatePassword,
  passwordPolicyProblems,
} from "../../../provider/core/password";

describe("generatePassword", () => {
  it("gives 32 URL-safe characters by default", () => {
    const password = generatePassword();
    expect(password).to.have.length(DEFAULT_PASSWORD_LENGTH);
    expect(password).to.match(/^[A-Za-z0-9._~-]+$/);
    expect(encodeURIComponent(password)).to.equal(password);
  });

  it("never repeats itself", () => {
    const seen = new Set(Array.from({ length: 2000 }, () => generatePassword()));
    expect(seen.size).to.equal(2000);
  });

  it("honours length and character set", () => {
    const password = generatePassword({ length: 64, characters: "abcdefghij" });
    expect(password).to.match(/^[a-j]{64}$/);
    expect(generatePassword({ length: 16 })).to.have.length(16);
  });

  it("draws every character uniformly", () => {
    const characters = "0123456789";
    const counts = new Map<string, number>();
    const samples = 200_000;
    for (let i = 0; i < samples / 40; i++) {
      for (const c of generatePassword({ length: 40, characters })) {
        counts.set(c, (counts.get(c) ?? 0) + 1);
      }
    }
    // Chi-squared, 9 degrees of freedom: 42 is beyond the 0.99999 quantile, while modulo bias
    // (digits 0-5 drawn 26/256, 6-9 25/256 of the time) would score about 73 here.
    const expected = samples / characters.length;
    const chi2 = [...characters].reduce((sum, c) => {
      const d = (counts.get(c) ?? 0) - expected;
      return sum + (d * d) / expected;
    }, 0);
    expect(chi2).to.be.below(42);
  });

  it("uses every default character eventually", () => {
    const used = new Set(Array.from({ length: 200 }, () => generatePassword()).join(""));
    expect(used.size).to.equal(URL_SAFE_CHARACTERS.length);
  });

  it("refuses weak or unusable policies with a clear message", () => {
    expect(() => generatePassword({ length: 15 })).to.throw(RangeError, /length must be/);
    expect(() => generatePassword({ length: 20.5 })).to.throw(RangeError, /whole number/);
    expect(() => generatePassword({ characters: "abc" })).to.throw(RangeError, /at least 10/);
    expect(() => generatePassword({ characters: "aabcdefghijk" })).to.throw(
      RangeError,
      /more than once/,
    );
    expect(() => generatePassword({ characters: "abcdefghij é" })).to.throw(
      RangeError,
      /printable ASCII/,
    );
  });

  it("refuses a policy with too little randomness", () => {
    // 20 × log2(10) ≈ 66 bits; 29 digits give 96.
    expect(() => generatePassword({ length: 20, characters: "0123456789" })).to.throw(
      RangeError,
      /about 66 bits of randomness; at least 96/,
    );
    expect(generatePassword({ length: 29, characters: "0123456789" })).to.have.length(29);
  });

  it("reports every policy problem at once", () => {
    expect(passwordPolicyProblems({ length: 3, characters: "ab" })).to.have.length(2);
    expect(passwordPolicyProblems({})).to.deep.equal([]);
  });
});

describe("password policy at its bounds", () => {
  it("takes a length of 1024 and refuses 1025; refuses characters that are not text", () => {
    expect(passwordPolicyProblems({ length: 1024 })).to.deep.equal([]);
    expect(passwordPolicyProblems({ length: 1025 })).to.deep.equal([
      "passwordPolicy.length must be a whole number from 16 to 1024",
    ]);
    expect(passwordPolicyProblems({ characters: 5 as unknown as string })).to.deep.equal([
      "passwordPolicy.characters may hold only printable ASCII characters without spaces",
    ]);
  });

  it("names every problem of a policy it refuses to generate from", () => {
    expect(() => generatePassword({ length: 8, characters: "aab" })).to.throw(
      RangeError,
      "passwordPolicy.length must be a whole number from 16 to 1024; passwordPolicy.characters lists a character more than once",
    );
  });

  it("refuses a character set holding both '$' and '{' (ESC reads \"${\" as an interpolation)", () => {
    const characters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz$";
    expect(passwordPolicyProblems({ characters })).to.deep.equal([]);
    expect(passwordPolicyProblems({ characters: characters + "{" })).to.deep.equal([
      "passwordPolicy.characters may not hold both '$' and '{': Pulumi ESC would read a password holding \"${\" as an interpolation",
    ]);
  });
});
