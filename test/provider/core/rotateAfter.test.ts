import { expect } from "chai";
import fc from "fast-check";
import { ValidationError } from "../../../provider/errors";
import {
  MAX_ROTATE_AFTER_MS,
  MIN_ROTATE_AFTER_MS,
  TEST_CLOCK_AHEAD_VARIABLE,
  formatDuration,
  lastEscRotation,
  latestTime,
  parseDuration,
  rotateAfterProblems,
  rotationAge,
  rotationNow,
} from "../../../provider/core/rotateAfter";
import { UNKNOWN, inputProblems } from "../../../provider/core/validate";

const HOUR = 3_600_000;
const at = (iso: string) => new Date(iso);

describe("rotateAfter durations", () => {
  it("reads whole minutes, hours and days", () => {
    expect(parseDuration("90m")).to.equal(90 * 60_000);
    expect(parseDuration("12h")).to.equal(12 * HOUR);
    expect(parseDuration("30d")).to.equal(30 * 24 * HOUR);
  });

  it("reads nothing else", () => {
    for (const text of [
      "",
      "1",
      "h",
      "1.5h",
      "-1h",
      "0h",
      "01h",
      "1 h",
      " 1h",
      "1H",
      "1w",
      "1h30m",
      "1s",
    ]) {
      expect(parseDuration(text), text).to.equal(undefined);
    }
  });

  it("accepts 1h to 3650d; refuses shorter, longer and malformed values with the units named", () => {
    for (const ok of ["1h", "60m", "12h", "30d", "3650d", UNKNOWN]) {
      expect(rotateAfterProblems(ok), ok).to.deep.equal([]);
    }
    expect(rotateAfterProblems(undefined)).to.deep.equal([]);
    expect(rotateAfterProblems("59m")).to.deep.equal(["rotateAfter must be at least 1h (60m)"]);
    expect(rotateAfterProblems("3651d")).to.deep.equal(["rotateAfter must be at most 3650d"]);
    for (const bad of ["30", "1.5d", "1w", 30, null, {}]) {
      expect(rotateAfterProblems(bad)[0], String(bad)).to.match(
        /^rotateAfter must be a whole number followed by m \(minutes\), h \(hours\) or d \(days\)/,
      );
    }
  });

  it("is checked with every other input, before anything changes", () => {
    const problems = inputProblems({
      database: { host: "h", database: "d", managingUser: { username: "m", password: "p" } },
      rotateUsers: { username1: "a", username2: "b" },
      rotateAfter: "30m",
    });
    expect(problems).to.deep.equal(["rotateAfter must be at least 1h (60m)"]);
  });

  it("formats ages as days, hours and minutes", () => {
    expect(formatDuration(0)).to.equal("0m");
    expect(formatDuration(59_999)).to.equal("0m");
    expect(formatDuration(45 * 60_000)).to.equal("45m");
    expect(formatDuration(51 * HOUR + 60_000)).to.equal("2d 3h 1m");
    expect(formatDuration(-HOUR)).to.equal("0m");
  });
});

describe("rotationAge", () => {
  const since = at("2026-01-01T00:00:00Z");

  it("is due once the password is exactly rotateAfter old, not a millisecond before", () => {
    expect(
      rotationAge({ since, rotateAfter: "1h", now: at("2026-01-01T00:59:59.999Z") }),
    ).to.deep.equal({
      due: false,
      dueAt: at("2026-01-01T01:00:00Z"),
    });
    const due = rotationAge({ since, rotateAfter: "1h", now: at("2026-01-01T01:00:00Z") });
    expect(due).to.deep.equal({
      due: true,
      reason: "the password is 1h old (set 2026-01-01T00:00:00.000Z), rotateAfter is 1h",
    });
  });

  it("is due when no time is recorded: the age is not known", () => {
    const age = rotationAge({ rotateAfter: "30d", now: since });
    expect(age.due).to.equal(true);
    expect(age)
      .to.have.property("reason")
      .that.matches(/age is unknown/);
  });

  it("property: due exactly when now - since >= rotateAfter, and dueAt is since + rotateAfter", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4e12 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.constantFrom("m", "h", "d"),
        fc.integer({ min: -1e10, max: 1e11 }),
        (start, n, unit, elapsed) => {
          const rotateAfter = `${n}${unit}`;
          const limit = parseDuration(rotateAfter)!;
          const age = rotationAge({
            since: new Date(start),
            rotateAfter,
            now: new Date(start + elapsed),
          });
          expect(age.due).to.equal(elapsed >= limit);
          if (!age.due) expect(age.dueAt.getTime()).to.equal(start + limit);
        },
      ),
    );
  });

  it("property: moving the clock ahead never turns a due rotation into one not due", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4e12 }),
        fc.integer({ min: 0, max: 1e11 }),
        fc.integer({ min: 0, max: 1e11 }),
        (start, elapsed, more) => {
          const input = { since: new Date(start), rotateAfter: "1h" };
          const before = rotationAge({ ...input, now: new Date(start + elapsed) });
          const later = rotationAge({ ...input, now: new Date(start + elapsed + more) });
          if (before.due) expect(later.due).to.equal(true);
        },
      ),
    );
  });

  it("the limits are those documented", () => {
    expect(MIN_ROTATE_AFTER_MS).to.equal(HOUR);
    expect(MAX_ROTATE_AFTER_MS).to.equal(3650 * 24 * HOUR);
  });
});

describe("the times the age is measured from", () => {
  it("latestTime takes the latest valid time and skips the rest", () => {
    expect(latestTime([])).to.equal(undefined);
    expect(latestTime([undefined, "not a time"])).to.equal(undefined);
    expect(
      latestTime(["2026-01-01T00:00:00Z", at("2026-03-01T00:00:00Z"), "2026-02-01T00:00:00Z"]),
    ).to.deep.equal(at("2026-03-01T00:00:00Z"));
  });

  it("lastEscRotation: the latest event in which the key's rotation succeeded", () => {
    const events = [
      {
        created: "2026-05-01T00:00:00Z",
        completed: "2026-05-01T00:00:05Z",
        status: "failed",
        rotations: [{ environmentPath: "dbRotator", status: "failed" }],
      },
      {
        created: "2026-04-01T00:00:00Z",
        completed: "2026-04-01T00:00:03Z",
        status: "succeeded",
        rotations: [{ environmentPath: "other", status: "succeeded" }],
      },
      {
        created: "2026-03-01T00:00:00Z",
        status: "failed",
        rotations: [
          { environmentPath: "dbRotator", status: "succeeded" },
          { environmentPath: "other", status: "failed" },
        ],
      },
      {
        created: "2026-02-01T00:00:00Z",
        completed: "2026-02-01T00:00:02Z",
        status: "succeeded",
        rotations: [{ environmentPath: "dbRotator", status: "succeeded" }],
      },
    ];
    expect(lastEscRotation(events, "dbRotator")).to.deep.equal(at("2026-03-01T00:00:00Z"));
    expect(lastEscRotation(events, "other")).to.deep.equal(at("2026-04-01T00:00:03Z"));
    expect(lastEscRotation(events, "missing")).to.equal(undefined);
    expect(lastEscRotation([{ created: "2026-01-01T00:00:00Z" }], "dbRotator")).to.equal(undefined);
  });
});

describe("rotationNow (the test-only clock)", () => {
  const now = at("2026-01-01T00:00:00Z");

  it("is the real time unless the variable is set", () => {
    expect(rotationNow(now, undefined)).to.equal(now);
    expect(rotationNow(now, "")).to.equal(now);
  });

  it("moves the clock ahead only, by a duration", () => {
    expect(rotationNow(now, "2h")).to.deep.equal(at("2026-01-01T02:00:00Z"));
    expect(rotationNow(now, "1m")).to.deep.equal(at("2026-01-01T00:01:00Z"));
  });

  it("refuses anything else, naming the variable, so a clock is never moved back", () => {
    for (const bad of ["-2h", "2026-01-01T00:00:00Z", "soon", "0h"]) {
      expect(() => rotationNow(now, bad), bad)
        .to.throw(ValidationError, TEST_CLOCK_AHEAD_VARIABLE)
        .with.property("message")
        .that.matches(/for tests only/);
    }
  });
});
