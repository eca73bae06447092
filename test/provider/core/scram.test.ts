import { expect } from "chai";
import {
  MAX_SCRAM_ITERATIONS,
  isScramVerifier,
  pgCanLogIn,
  pgClientSaslPrep,
  postgresSaslPrep,
  scramSha256Verifier,
  scramSha256VerifierAsync,
} from "../../../provider/core/scram";
import { quoteIdentifier } from "../../../provider/postgres/sql";
import { TEST_MAJORS, cluster, uniqueName, type TestCluster } from "../../support/servers";

const salt = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64");

describe("scramSha256Verifier", () => {
  it("has PostgreSQL's shape and a fresh salt each time", () => {
    const a = scramSha256Verifier("pencil");
    const b = scramSha256Verifier("pencil");
    expect(a).to.match(
      /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/,
    );
    expect(isScramVerifier(a)).to.equal(true);
    expect(a).to.not.equal(b);
  });

  // Fixed vectors, computed apart from this code (Python's hashlib.pbkdf2_hmac, hmac and
  // sha256, over the SASLprep'd bytes), so a change to the derivation, the key labels, the
  // encoding or the layout fails here, with no server needed.
  const other = Buffer.from("AAECAwQFBgcICQoLDA0ODw==", "base64");
  const VECTORS: [string, string, Buffer, number, string][] = [
    [
      "pencil (RFC 7677's salt)",
      "pencil",
      salt,
      4096,
      "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
    ],
    [
      "a soft hyphen, mapped to nothing",
      "pass\u00ADword",
      salt,
      4096,
      "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$rehcOKRLiadVakD2Gh7oQ4zvHc5kjxugzgHqDXWVjUs=:Ww0KRfEe84T1AwUwNMZg7khv3Pp7eddhWOjQtpT+mGM=",
    ],
    [
      "a Roman numeral, NFKC-normalized to IX",
      "\u2168",
      salt,
      4096,
      "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$jm4XkHvFe7q0xZ4vmAKJUiTKPr1F+7MXnYyksTUVeBE=:EqXM4c5+I7lQ5vHl5Ngu2rY8DBMM1XjG0dY6GEjwLx0=",
    ],
    [
      "URL-breaking ASCII at 10000 iterations",
      "p@ss:w/rd?#%'\"\\",
      other,
      10000,
      "SCRAM-SHA-256$10000:AAECAwQFBgcICQoLDA0ODw==$tK40NwIgCDBGqBUMo243nYjgE9ZnlCOBOLn1xsWMS+I=:0PPXtnyq8UCbtjrBHkfUL0RkVnh8dbhOSURdqIKlODM=",
    ],
    [
      "a prohibited character: the raw UTF-8 bytes",
      "caf\u00E9\u0007",
      other,
      4096,
      "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$Y3s4xktWY+1pBtpMLUJPvBHOlkuNzKvcQuAdEZ+IVkg=:/UC9rcO+px0245FFS8D+xHjxLC2FOawX2PpWxSwc2dU=",
    ],
    [
      "a no-break space, mapped to a space",
      "a\u00A0b",
      other,
      4096,
      "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$2rk8ozQF6mFul4o/eBQJGFZYT30xZfbvIPbBLAWLciE=:pSG3jifpoVWrie8UI3R+dT6wAl5kSJ99Eq0WJFwgetU=",
    ],
  ];
  for (const [label, password, vectorSalt, iterations, expected] of VECTORS) {
    it(`matches a fixed vector: ${label}`, async () => {
      const options = { salt: vectorSalt, iterations };
      expect(scramSha256Verifier(password, options)).to.equal(expected);
      expect(await scramSha256VerifierAsync(password, options)).to.equal(expected);
    });
  }

  it("honours the iteration count", () => {
    expect(scramSha256Verifier("pencil", { iterations: 10000 })).to.match(/^SCRAM-SHA-256\$10000:/);
  });

  it("refuses inputs that would produce a useless verifier", () => {
    expect(() => scramSha256Verifier("")).to.throw(RangeError, /non-empty/);
    expect(() => scramSha256Verifier("a\0b")).to.throw(RangeError, /NUL/);
    expect(() => scramSha256Verifier("x", { iterations: 0 })).to.throw(RangeError, /iterations/);
    expect(() => scramSha256Verifier("x", { salt: Buffer.alloc(4) })).to.throw(RangeError, /salt/);
  });

  it("never contains the password", () => {
    const password = "correct-horse-battery-staple";
    expect(scramSha256Verifier(password)).to.not.include(password);
  });
});

describe("isScramVerifier", () => {
  it("accepts only the exact shape", () => {
    const good = scramSha256Verifier("x");
    for (const bad of [
      "",
      null,
      undefined,
      "md5abc",
      good + "'",
      good.replace("SCRAM-SHA-256", "scram-sha-256"),
      good.replace("$4096:", "$0:"),
      `${good}; DROP ROLE x; --`,
      good.slice(0, -2),
    ]) {
      expect(isScramVerifier(bad), String(bad)).to.equal(false);
    }
  });
});

describe("postgresSaslPrep", () => {
  it("leaves ASCII alone, control characters included", () => {
    expect(postgresSaslPrep("pass\u0007word").toString()).to.equal("pass\u0007word");
  });
  it("maps and normalizes like RFC 4013", () => {
    expect(postgresSaslPrep("pass\u00ADword").toString()).to.equal("password");
    expect(postgresSaslPrep("a\u00A0b").toString()).to.equal("a b");
    expect(postgresSaslPrep("\u2168").toString()).to.equal("IX");
  });
  it("falls back to the raw bytes when SASLprep refuses the string", () => {
    expect(postgresSaslPrep("é\u0007").toString()).to.equal("é\u0007");
  });
});

// The authority on "as PostgreSQL does it" is PostgreSQL: let the server hash the plaintext,
// read the stored verifier, and recompute it here with the server's salt and iteration count.
for (const major of TEST_MAJORS) {
  describe(`scramSha256Verifier against PostgreSQL ${major}'s own hashing`, function () {
    let pg: TestCluster;
    before(async () => {
      pg = await cluster(major);
    });

    async function serverVerifier(password: string, iterations?: number): Promise<string> {
      const role = uniqueName("scram_probe");
      return pg.asSuperuser(async (c) => {
        await c.query(`CREATE ROLE ${quoteIdentifier(role)} LOGIN`);
        await c.query("SET password_encryption = 'scram-sha-256'");
        if (iterations) await c.query(`SET scram_iterations = ${iterations}`);
        await c.query(`ALTER ROLE ${quoteIdentifier(role)} PASSWORD ${c.escapeLiteral(password)}`);
        const r = await c.query("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [role]);
        await c.query(`DROP ROLE ${quoteIdentifier(role)}`);
        return r.rows[0].rolpassword as string;
      });
    }

    const cases: Record<string, string> = {
      "plain ASCII": "pencil",
      "ASCII with punctuation": "p@ss:w/rd?#%'\"\\",
      "ASCII control character": "tab\there",
      "soft hyphen (mapped to nothing)": "pass\u00ADword",
      "no-break space (mapped to space)": "pass\u00A0word",
      "NFKC compatibility form": "\uFB01ve \u2168",
      "combining sequence": "e\u0301t\u00E9",
      "prohibited control character": "caf\u00E9\u0007",
      "unassigned in Unicode 3.2": "x\u0221y",
      "bidi rule violation": "\u06271",
      "outside the BMP": "key\u{1F511}",
      "only characters mapped to nothing": "\u00AD\u200B",
    };

    for (const [label, password] of Object.entries(cases)) {
      it(`matches for ${label}`, async () => {
        const stored = await serverVerifier(password);
        const [, iterations, saltB64] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored)!;
        const ours = scramSha256Verifier(password, {
          iterations: Number(iterations),
          salt: Buffer.from(saltB64, "base64"),
        });
        expect(ours).to.equal(stored);
      });
    }

    it("matches with scram_iterations raised (16 and later)", async function () {
      if (major < 16) this.skip();
      const stored = await serverVerifier("pencil", 12345);
      const [, iterations, saltB64] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored)!;
      expect(iterations).to.equal("12345");
      expect(
        scramSha256Verifier("pencil", { iterations: 12345, salt: Buffer.from(saltB64, "base64") }),
      ).to.equal(stored);
    });
  });
}

describe("scram inputs at their bounds", () => {
  it("takes 1 to 100,000 whole iterations and nothing else, synchronously or not", async () => {
    expect(scramSha256Verifier("x", { iterations: 1 })).to.match(/^SCRAM-SHA-256\$1:/);
    for (const iterations of [0, -1, 1.5, 100_001, NaN]) {
      expect(() => scramSha256Verifier("x", { iterations }), String(iterations)).to.throw(
        RangeError,
        "iterations must be a whole number from 1 to 100000",
      );
      expect(() => scramSha256VerifierAsync("x", { iterations })).to.throw(RangeError);
    }
    expect(() => scramSha256Verifier(5 as unknown as string)).to.throw(RangeError, /non-empty/);
    expect(() => scramSha256VerifierAsync("")).to.throw(RangeError, /non-empty/);
    expect(scramSha256Verifier("x", { salt: Buffer.alloc(16) })).to.match(
      /^SCRAM-SHA-256\$4096:AAAAAAAAAAAAAAAAAAAAAA==\$/,
    );
  });

  it("recognizes verifiers only whole, and only as text", () => {
    const good = scramSha256Verifier("x");
    expect(isScramVerifier(`x${good}`)).to.equal(false);
    expect(isScramVerifier({ toString: () => good })).to.equal(false);
  });

  it("prepares bytes as PostgreSQL does: ASCII as is, lone surrogates raw, prohibited raw", () => {
    expect(postgresSaslPrep("ab\u0001").equals(Buffer.from("ab\u0001"))).to.equal(true);
    expect(postgresSaslPrep("\uD800x").equals(Buffer.from("\uD800x", "utf8"))).to.equal(true);
    expect(postgresSaslPrep("é").equals(Buffer.from("é", "utf8"))).to.equal(true);
    expect(postgresSaslPrep("a\u00A0é").toString("utf8")).to.equal("a é");
  });

  it("knows which passwords pg can log in with", () => {
    expect(pgCanLogIn("plain-ASCII")).to.equal(true);
    expect(pgCanLogIn("a\u00A0b\u00ADc")).to.equal(true);
    expect(pgCanLogIn("caf\u00E9\u0007\u00AD")).to.equal(false);
    expect(pgClientSaslPrep("a\u2003b\u200Bc\uFB01").toString("utf8")).to.equal("a b cfi");
  });
});

describe("scram: the iteration bound itself", () => {
  it("takes exactly 100,000 iterations, node-postgres' default scramMaxIterations", () => {
    expect(MAX_SCRAM_ITERATIONS).to.equal(100_000);
    expect(scramSha256Verifier("x", { iterations: 100_000 })).to.match(/^SCRAM-SHA-256\$100000:/);
  });
});
