/** ESC rotation schedules, pure: validation, the request body, the service's answer read back. */
import { expect } from "chai";
import {
  cronProblems,
  isoTime,
  onceProblems,
  parseDateTime,
  parseServiceTime,
  sameSchedule,
  scheduleOf,
  scheduleProblems,
  scheduleRequest,
} from "../../../provider/core/schedule";
import { UNKNOWN } from "../../../provider/core/validate";

describe("rotation schedules (pure)", () => {
  describe("cronProblems", () => {
    it("accepts 5 fields that run at most daily", () => {
      for (const cron of [
        "0 3 * * *",
        " 59  23 * * * ",
        "30 4 * * 1",
        "0 0 1 */3 *",
        "15 2 1,15 * 1-5",
        "0 12 * 1-6/2 0,7",
      ]) {
        expect(cronProblems(cron, "schedule.cron"), cron).to.deep.equal([]);
      }
    });

    it("refuses anything but 5 fields, naming the count", () => {
      expect(cronProblems("0 0 3 * * *", "schedule.cron")).to.deep.equal([
        'schedule.cron must have exactly 5 fields (minute hour day-of-month month day-of-week), not 6, e.g. "0 3 * * *" for 03:00 every day',
      ]);
      expect(cronProblems("@daily", "schedule.cron")[0]).to.include("not 1");
      expect(cronProblems("", "schedule.cron")[0]).to.include("not 0");
    });

    it("refuses more often than daily: minute and hour must be single numbers", () => {
      const [minute] = cronProblems("*/5 3 * * *", "schedule.cron");
      expect(minute).to.equal(
        'schedule.cron: the minute must be one number from 0 to 59 (ESC rotates at most once a day), not "*/5"',
      );
      for (const cron of ["0 * * * *", "0 3,15 * * *", "0 0-23 * * *", "0 */12 * * *"]) {
        const problems = cronProblems(cron, "schedule.cron");
        expect(problems, cron).to.have.length(1);
        expect(problems[0], cron).to.include("the hour must be one number from 0 to 23");
      }
      expect(cronProblems("60 24 * * *", "schedule.cron")).to.have.length(2);
    });

    it("names each bad day, month or weekday field", () => {
      const problems = cronProblems("0 3 32 13 8", "schedule.cron");
      expect(problems).to.deep.equal([
        'schedule.cron: the day of month must be *, a number from 1 to 31, a range, a list or a step, not "32"',
        'schedule.cron: the month must be *, a number from 1 to 12, a range, a list or a step, not "13"',
        'schedule.cron: the day of week must be *, a number from 0 to 7, a range, a list or a step, not "8"',
      ]);
      expect(cronProblems("0 3 5-1 JAN MON", "c")).to.have.length(3);
      expect(cronProblems("0 3 */0 * *", "c")).to.have.length(1);
    });

    it("skips a value unknown during a preview; refuses a non-string", () => {
      expect(cronProblems(UNKNOWN, "schedule.cron")).to.deep.equal([]);
      expect(cronProblems(3, "schedule.cron")).to.deep.equal(["schedule.cron must be a string"]);
    });
  });

  describe("onceProblems and parseDateTime", () => {
    const now = new Date("2026-11-26T12:00:00Z");

    it("accepts RFC 3339 date-times with a zone, and wants them after now when asked", () => {
      expect(onceProblems("2026-11-26T12:00:01Z", "schedule.once", now)).to.deep.equal([]);
      expect(onceProblems("2026-11-26T13:00:00+01:00", "schedule.once", now)).to.deep.equal([
        "schedule.once must be in the future: 2026-11-26T13:00:00+01:00 has passed",
      ]);
      expect(onceProblems("2020-01-01T00:00:00Z", "schedule.once")).to.deep.equal([]);
    });

    it("refuses dates without a zone or seconds, and calendar dates that do not exist", () => {
      for (const once of [
        "2026-12-01",
        "2026-12-01T03:00Z",
        "2026-12-01T03:00:00",
        "2026-02-30T03:00:00Z",
        "2026-12-01T24:00:00Z",
        "2026-12-01T03:00:00+25:00",
        "tomorrow",
      ]) {
        expect(onceProblems(once, "schedule.once"), once).to.deep.equal([
          'schedule.once must be an ISO 8601 date-time with seconds and a zone, e.g. "2026-12-01T03:00:00Z"',
        ]);
      }
      expect(parseDateTime("2028-02-29T00:00:00.5-02:00")?.toISOString()).to.equal(
        "2028-02-29T02:00:00.500Z",
      );
    });

    it("reads the service's own time format as UTC", () => {
      expect(parseServiceTime("2026-11-27 03:00:00.000")?.toISOString()).to.equal(
        "2026-11-27T03:00:00.000Z",
      );
      expect(parseServiceTime("2026-11-27T04:00:00+01:00")?.toISOString()).to.equal(
        "2026-11-27T03:00:00.000Z",
      );
      expect(parseServiceTime("")).to.equal(undefined);
      expect(isoTime("2026-11-27 03:00:00")).to.equal("2026-11-27T03:00:00.000Z");
      expect(isoTime("")).to.equal("");
    });
  });

  describe("scheduleProblems", () => {
    it("wants exactly one of cron and once", () => {
      const usage =
        'schedule must have exactly one of cron and once: {cron: "<minute> <hour> <day> <month> <weekday>"} or {once: "<ISO 8601 date-time>"}';
      expect(scheduleProblems({}, "schedule")).to.deep.equal([usage]);
      expect(
        scheduleProblems({ cron: "0 3 * * *", once: "2099-01-01T00:00:00Z" }, "schedule"),
      ).to.deep.equal([usage]);
      expect(scheduleProblems("0 3 * * *", "schedule")[0]).to.match(/^schedule must be \{cron/);
      expect(scheduleProblems(UNKNOWN, "schedule")).to.deep.equal([]);
    });

    it("checks the arm given, under its own path", () => {
      expect(scheduleProblems({ cron: "* * * * *" }, "schedule")).to.have.length(2);
      expect(
        scheduleProblems({ once: "2020-01-01T00:00:00Z" }, "schedule", new Date())[0],
      ).to.match(/^schedule\.once must be in the future/);
    });
  });

  describe("requests and answers", () => {
    it("builds the API body: the cron tidied, a date-time in UTC, every rotated secret", () => {
      expect(scheduleRequest({ cron: " 0  3 * * * " })).to.deep.equal({
        scheduleCron: "0 3 * * *",
        secretRotationRequest: { environmentPath: "" },
      });
      expect(scheduleRequest({ once: "2026-12-01T04:00:00+01:00" })).to.deep.equal({
        scheduleOnce: "2026-12-01T03:00:00.000Z",
        secretRotationRequest: { environmentPath: "" },
      });
    });

    it("compares schedules by when they fire", () => {
      expect(sameSchedule({ cron: "0 3 * * *" }, { cron: " 0 3  * * *" })).to.equal(true);
      expect(sameSchedule({ cron: "0 3 * * *" }, { cron: "0 4 * * *" })).to.equal(false);
      expect(
        sameSchedule({ once: "2026-12-01T03:00:00Z" }, { once: "2026-12-01T04:00:00+01:00" }),
      ).to.equal(true);
      expect(sameSchedule({ once: "2026-12-01T03:00:00Z" }, { cron: "0 3 * * *" })).to.equal(false);
    });

    it("reads a schedule back, keeping the recorded spelling of the same times", () => {
      const recorded = { once: "2026-12-01T04:00:00+01:00" };
      const answer = { id: "s", scheduleOnce: "2026-12-01 03:00:00.000" };
      expect(scheduleOf(answer, recorded)).to.equal(recorded);
      expect(
        scheduleOf({ id: "s", scheduleOnce: "2026-12-02 03:00:00.000" }, recorded),
      ).to.deep.equal({ once: "2026-12-02T03:00:00.000Z" });
      expect(scheduleOf({ id: "s", scheduleCron: "0 5 * * *" }, recorded)).to.deep.equal({
        cron: "0 5 * * *",
      });
      expect(scheduleOf({ id: "s" })).to.equal(undefined);
    });
  });
});

describe("schedules at their edges", () => {
  it("takes only date-times that exist, with a zone that exists", () => {
    for (const ok of [
      "2032-02-29T00:00:00Z",
      "2031-12-31T23:59:59.999999999Z",
      "2031-06-01T03:00:00+23:59",
      "2031-06-01T03:00:00-00:00",
    ]) {
      expect(parseDateTime(ok), ok).to.be.instanceOf(Date);
    }
    for (const bad of [
      "2031-02-29T00:00:00Z",
      "2031-04-31T00:00:00Z",
      "2031-13-01T00:00:00Z",
      "2031-00-10T00:00:00Z",
      "2031-06-01T24:00:00Z",
      "2031-06-01T03:60:00Z",
      "2031-06-01T03:00:60Z",
      "2031-06-01T03:00:00+24:00",
      "2031-06-01T03:00:00+05:60",
      "x2031-06-01T03:00:00Z",
      "2031-06-01T03:00:00Zx",
      "2031-06-01T03:00:00.1234567890Z",
    ]) {
      expect(parseDateTime(bad), bad).to.equal(undefined);
    }
  });

  it("reads the service's own time format, and nothing around it", () => {
    expect(parseServiceTime("2031-06-01 03:00:00.000")?.toISOString()).to.equal(
      "2031-06-01T03:00:00.000Z",
    );
    expect(parseServiceTime("2031-06-01 03:00:00")?.toISOString()).to.equal(
      "2031-06-01T03:00:00.000Z",
    );
    expect(parseServiceTime("")).to.equal(undefined);
    expect(parseServiceTime(undefined)).to.equal(undefined);
    expect(parseServiceTime("x2031-06-01 03:00:00")).to.equal(undefined);
    expect(parseServiceTime("2031-06-01 03:00:00x")).to.equal(undefined);
    expect(isoTime("garbage")).to.equal("");
  });

  it("checks every part of every cron field, and every number in a list", () => {
    const ok = (cron: string) => expect(cronProblems(cron, "c"), cron).to.deep.equal([]);
    const bad = (cron: string, what: RegExp) =>
      expect(cronProblems(cron, "c").join("\n"), cron).to.match(what);
    ok("0 3 * * *");
    ok("0 3 1-31/1 1,6,12 0-7/7");
    ok("\t0\t3 * * *  ");
    ok("59 23 31 12 7");
    bad("0 3 1,x * *", /day of month/);
    bad("0 3 x,1 * *", /day of month/);
    bad("0 3 0 * *", /day of month/);
    bad("0 3 * * */0", /day of week/);
    bad("0 3 1-2-3 * *", /day of month/);
    bad("0 3 1/2/3 * *", /day of month/);
    bad("0 3 * 1-13 *", /month/);
    bad("0 3 */x * *", /day of month/);
    bad("x0 3 * * *", /minute/);
    bad("0 3x * * *", /hour/);
    bad("100 3 * * *", /minute/);
    expect(cronProblems("0 3 * *", "c")).to.deep.equal([
      'c must have exactly 5 fields (minute hour day-of-month month day-of-week), not 4, e.g. "0 3 * * *" for 03:00 every day',
    ]);
    expect(cronProblems("60 3 * * *", "c")).to.deep.equal([
      'c: the minute must be one number from 0 to 59 (ESC rotates at most once a day), not "60"',
    ]);
    expect(scheduleProblems({ cron: "* 3 * * *" }, "s")[0]).to.match(/^s\.cron: the minute/);
    expect(onceProblems(UNKNOWN, "o")).to.deep.equal([]);
    expect(onceProblems(5, "o")[0]).to.match(/^o must be an ISO 8601 date-time/);
  });

  it("compares cron with cron, once with once, and never one with the other", () => {
    expect(sameSchedule({ cron: "0 3 * * *" }, { once: "2031-06-01T03:00:00Z" })).to.equal(false);
    expect(sameSchedule({ once: "2031-06-01T03:00:00Z" }, { cron: "0 3 * * *" })).to.equal(false);
    expect(sameSchedule({ once: "nonsense" }, { once: "2031-06-01T03:00:00Z" })).to.equal(false);
    expect(
      sameSchedule({ once: "2031-06-01T03:00:00Z" }, { once: "2031-06-01 03:00:00.000" }),
    ).to.equal(true);
    expect(sameSchedule({ cron: " 0  3 * * *" }, { cron: "0 3 * * *" })).to.equal(true);
    expect(scheduleOf({ id: "s", scheduleOnce: "not a time" })).to.deep.equal({
      once: "not a time",
    });
    expect(scheduleOf({ id: "s" }, { cron: "0 3 * * *" })).to.equal(undefined);
    expect(scheduleRequest({ cron: " 0  3 * * 1 " }).scheduleCron).to.equal("0 3 * * 1");
  });
});

describe("schedules: null, two-digit steps and either side of a comparison", () => {
  it("reads null as no schedule, takes */15, and compares an unreadable date on either side", () => {
    expect(scheduleProblems(null, "s")).to.deep.equal([
      's must be {cron: "<minute> <hour> <day> <month> <weekday>"} or {once: "<ISO 8601 date-time>"}',
    ]);
    expect(cronProblems("0 3 */15 * *", "c")).to.deep.equal([]);
    expect(sameSchedule({ once: "2031-06-01T03:00:00Z" }, { once: "nonsense" })).to.equal(false);
  });
});
