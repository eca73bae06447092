/**
 * Hostile input to every input of `EscRotationSchedule`, through its provider, against the ESC
 * stand-in: each is refused by `check`, `create` and `update` before any request reaches the
 * stand-in, or works with exactly the schedule meant.
 */
import { expect } from "chai";
import * as schedule from "../../../provider/escRotationSchedule/handlers";
import type {
  EscRotationScheduleInputs,
  EscRotationScheduleOutputs,
} from "../../../provider/escRotationSchedule/handlers";
import { ValidationError } from "../../../provider/errors";
import { ESC_TOKEN, startEscStandIn, type EscStandIn } from "../../support/escStandIn";
import { expectNoSecrets, rejection, renderings } from "../../support/secrets";

const DAY = 24 * 3600_000;

describe("EscRotationSchedule hostile inputs (local ESC stand-in)", () => {
  let api: EscStandIn;
  let counter = 0;
  before(async () => (api = await startEscStandIn()));
  after(() => api?.close());

  function inputs(extra: Record<string, unknown> = {}): EscRotationScheduleInputs {
    counter += 1;
    const environment = `hostile-${counter}`;
    api.write(`acme/payments/${environment}`, "values:\n  dbRotator: {}\n");
    return {
      organization: "acme",
      project: "payments",
      environment,
      schedule: { cron: "0 3 * * *" },
      accessToken: ESC_TOKEN,
      apiUrl: api.url,
      ...extra,
    } as EscRotationScheduleInputs;
  }
  const cron = (c: unknown) => ({ schedule: { cron: c } });
  const once = (o: unknown) => ({ schedule: { once: o } });

  const REFUSED: [string, Record<string, unknown>, RegExp][] = [
    ["every minute", cron("* * * * *"), /minute must be one number/],
    ["every hour", cron("0 * * * *"), /hour must be one number/],
    ["a minute step", cron("*/5 3 * * *"), /minute/],
    ["twice a day by a list of hours", cron("0 3,15 * * *"), /hour/],
    ["a second cron line after a newline", cron("0 3 * * *\n0 4 * * *"), /exactly 5 fields/],
    ["six fields (seconds)", cron("0 0 3 * * *"), /exactly 5 fields/],
    ["a macro", cron("@daily"), /exactly 5 fields/],
    ["day names", cron("0 3 * * MON"), /day of week/],
    ["a question mark", cron("0 3 ? * *"), /day of month/],
    ["minute 60", cron("60 3 * * *"), /minute/],
    ["hour 24", cron("0 24 * * *"), /hour/],
    ["day 32", cron("0 3 32 * *"), /day of month/],
    ["month 13", cron("0 3 * 13 *"), /month/],
    ["weekday 8", cron("0 3 * * 8"), /day of week/],
    ["a reversed range", cron("0 3 * 5-1 *"), /month/],
    ["a zero step", cron("0 3 */0 * *"), /day of month/],
    ["a negative number", cron("0 3 -1 * *"), /day of month/],
    ["cron as a number", cron(3), /schedule\.cron must be a string/],
    ["a date that does not exist", once("2031-02-30T03:00:00Z"), /schedule\.once/],
    ["month 13 in a date", once("2031-13-01T03:00:00Z"), /schedule\.once/],
    ["a date without a zone", once("2031-01-01T03:00:00"), /schedule\.once/],
    ["a date without seconds", once("2031-01-01T03:00Z"), /schedule\.once/],
    ["the word now", once("now"), /schedule\.once/],
    ["a date in the past", once("2001-01-01T00:00:00Z"), /must be in the future/],
    ["a date with a newline", once("2031-01-01T03:00:00Z\n"), /schedule\.once/],
    ["a date as a number", once(Date.now() + DAY), /schedule\.once/],
    [
      "both cron and once",
      { schedule: { cron: "0 3 * * *", once: "2031-01-01T03:00:00Z" } },
      /exactly one of cron and once/,
    ],
    ["neither cron nor once", { schedule: {} }, /exactly one of cron and once/],
    ["schedule as a string", { schedule: "0 3 * * *" }, /^schedule must be/],
    ["an environment wildcard", { environment: "*" }, /^environment must be/],
    ["an environment that climbs the API path", { environment: "../x" }, /^environment must be/],
    ["an organization with a newline", { organization: "acme\n" }, /^organization must be/],
    ["a project with a colon", { project: "p:q" }, /^project must be/],
    ["an empty token", { accessToken: "" }, /^accessToken must be a non-empty string/],
    ["a token that is not text", { accessToken: 12345 }, /^accessToken must be/],
    ["a token of whitespace only", { accessToken: " \n" }, /^accessToken must be a non-empty/],
    ["a javascript: apiUrl", { apiUrl: "javascript:alert(1)" }, /^apiUrl must be an http/],
  ];

  for (const [label, patch, message] of REFUSED) {
    it(`refuses ${label} before any request`, async () => {
      const bad = inputs(patch);
      const checked = await schedule.check({}, bad as unknown as Record<string, unknown>);
      // `check` runs in previews too, so a date in the past is left to create and update.
      if (!/future/.test(message.source)) {
        expect(checked.failures!.map((f) => f.reason).join("\n")).to.match(message);
      }
      const start = api.requests.length;
      const created = await rejection(schedule.create(bad));
      expect(created).to.be.instanceOf(ValidationError);
      expect(created.message).to.match(new RegExp(message.source.replace("^", "")));
      expect(api.requests.length - start, "requests by the refused create").to.equal(0);
      const good = inputs();
      const { id, outs } = await schedule.create(good);
      const afterCreate = api.requests.length;
      const updated = await rejection(
        schedule.update(id, outs as EscRotationScheduleOutputs, { ...good, ...patch } as never),
      );
      expect(updated).to.be.instanceOf(ValidationError);
      expect(api.requests.length - afterCreate, "requests by the refused update").to.equal(0);
      expectNoSecrets(renderings(created) + renderings(updated), [ESC_TOKEN]);
    });
  }

  const WORKS: [
    string,
    Record<string, unknown>,
    { scheduleCron?: string; scheduleOnce?: string },
  ][] = [
    [
      "a cron with tabs and extra spaces",
      cron("\t0  3 * *\t1-5 "),
      { scheduleCron: "0 3 * * 1-5" },
    ],
    [
      "a cron with lists, ranges and steps",
      cron("59 23 1,15 */2 0-6/2"),
      { scheduleCron: "59 23 1,15 */2 0-6/2" },
    ],
    [
      "a date with an offset and nanoseconds",
      once("2031-06-01T08:30:00.123456789+05:30"),
      { scheduleOnce: "2031-06-01T03:00:00.123Z" },
    ],
    [
      "a date in lower case with a Z",
      once("2031-06-01t03:00:00z"),
      { scheduleOnce: "2031-06-01T03:00:00.000Z" },
    ],
  ];
  for (const [label, patch, request] of WORKS) {
    it(`schedules ${label} as meant`, async () => {
      const i = inputs(patch);
      await schedule.create(i);
      const body = JSON.parse(api.requests.at(-1)!.body);
      expect(body).to.deep.equal({ ...request, secretRotationRequest: { environmentPath: "" } });
    });
  }
});
