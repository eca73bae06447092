/** provider/core/mark.ts: the rotation mark in a role's comment, and what a rotation may do. */
import { expect } from "chai";
import { judgeMark, markIn, withMark } from "../../../provider/core/mark";

const ID = "0f8e2c1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b";
const AT = "2026-11-26T03:00:00.000Z";
const LINE = `pulumi-postgres-rotator: rotation ${ID} at ${AT}`;

describe("core/mark", () => {
  it("reads the mark from its own line of a comment, and nothing else", () => {
    expect(markIn(LINE)).to.deep.equal({ id: ID, at: AT });
    expect(markIn(`owned by team A\n${LINE}\nmore`)).to.deep.equal({ id: ID, at: AT });
    for (const none of [
      null,
      undefined,
      "",
      "owned by team A",
      `x ${LINE}`,
      `${LINE} trailing`,
      LINE.replace(ID, "NOT-HEX-ID"),
      LINE.replace(ID, "abc"),
      LINE.replace(ID, "a".repeat(65)),
      LINE.replace(` at ${AT}`, ""),
      LINE.replace("rotation", "rotated"),
    ]) {
      expect(markIn(none), JSON.stringify(none)).to.equal(undefined);
    }
    expect(markIn(LINE.replace(ID, "a".repeat(8)))?.id).to.equal("a".repeat(8));
    expect(markIn(LINE.replace(ID, "a".repeat(64)))?.id).to.equal("a".repeat(64));
  });

  it("writes the mark alone, after other lines, or in place of the old one", () => {
    const mark = { id: ID, at: AT };
    expect(withMark(null, mark)).to.equal(LINE);
    expect(withMark(undefined, mark)).to.equal(LINE);
    expect(withMark("", mark)).to.equal(LINE);
    expect(withMark("owned by team A", mark)).to.equal(`owned by team A\n${LINE}`);
    const old = LINE.replace(ID, "1111111111").replace(AT, "2020-01-01T00:00:00Z");
    expect(withMark(`a\n${old}\nb`, mark)).to.equal(`a\n${LINE}\nb`);
    expect(markIn(withMark(`a\n${old}\nb`, mark))).to.deep.equal(mark);
  });

  it("reads and writes who rotated: the holder's id after ' by ', and nothing else there", () => {
    const holder = "9a8b7c6d-0000-4111-8222-333344445555";
    const line = `${LINE} by ${holder}`;
    expect(markIn(line)).to.deep.equal({ id: ID, at: AT, by: holder });
    expect(markIn(`a\n${line}\nb`)).to.deep.equal({ id: ID, at: AT, by: holder });
    expect(withMark(null, { id: ID, at: AT, by: holder })).to.equal(line);
    expect(withMark(`a\n${line}`, { id: ID, at: AT })).to.equal(`a\n${LINE}`);
    for (const none of [`${LINE} by NOT-HEX-HOLDER`, `${LINE} by abc`, `${LINE} by ${holder} x`]) {
      expect(markIn(none), none).to.equal(undefined);
    }
  });

  it("judges a mark of this holder's own as an attempt it never recorded: proceed; another holder's by id", () => {
    const me = "9a8b7c6d-0000-4111-8222-333344445555";
    const mine = { id: ID, at: AT, by: me };
    const theirs = { id: ID, at: AT, by: "11112222-3333-4444-5555-666677778888" };
    expect(judgeMark("other-id-1", mine, true, me)).to.deep.equal({ kind: "proceed" });
    expect(judgeMark(undefined, mine, true, me)).to.deep.equal({ kind: "proceed" });
    expect(judgeMark("other-id-1", theirs, true, me)).to.deep.equal({
      kind: "refuse",
      found: theirs,
    });
    expect(judgeMark(undefined, theirs, true, me)).to.deep.equal({ kind: "probe" });
    // No holder given: a mark naming one is judged by its id alone.
    expect(judgeMark("other-id-1", mine, true)).to.deep.equal({ kind: "refuse", found: mine });
    expect(judgeMark(ID, theirs, true, me)).to.deep.equal({ kind: "proceed" });
  });

  it("judges: no mark proceeds; the expected id proceeds, another refuses; unexpected marks probe a known password", () => {
    const found = { id: ID, at: AT };
    expect(judgeMark(undefined, undefined, true)).to.deep.equal({ kind: "proceed" });
    expect(judgeMark(ID, undefined, true)).to.deep.equal({ kind: "proceed" });
    expect(judgeMark(ID, found, false)).to.deep.equal({ kind: "proceed" });
    expect(judgeMark("other-id-1", found, true)).to.deep.equal({ kind: "refuse", found });
    expect(judgeMark(undefined, found, true)).to.deep.equal({ kind: "probe" });
    expect(judgeMark(undefined, found, false)).to.deep.equal({ kind: "proceed" });
  });
});
