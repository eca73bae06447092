/** `EscRotationSchedule`'s provider against the local ESC stand-in. */
import { expect } from "chai";
import * as schedule from "../../../provider/escRotationSchedule/handlers";
import type {
  EscRotationScheduleInputs,
  EscRotationScheduleOutputs,
} from "../../../provider/escRotationSchedule/handlers";
import { escScheduleClient } from "../../../provider/esc/schedules";
import { EscError, ValidationError } from "../../../provider/errors";
import { ESC_TOKEN, startEscStandIn, type EscStandIn } from "../../support/escStandIn";
import { expectNoSecrets, rejection, renderings } from "../../support/secrets";

const DAY = 24 * 3600_000;

describe("EscRotationSchedule provider (local ESC stand-in)", () => {
  let api: EscStandIn;
  let counter = 0;
  before(async () => (api = await startEscStandIn()));
  after(() => api?.close());

  /** Inputs for a fresh rotator environment in the stand-in. */
  function inputs(extra: Partial<EscRotationScheduleInputs> = {}): EscRotationScheduleInputs {
    counter += 1;
    const environment = `rotator-${counter}`;
    api.write(`acme/payments/${environment}`, "values:\n  dbRotator: {}\n");
    return {
      organization: "acme",
      project: "payments",
      environment,
      schedule: { cron: "0 3 * * *" },
      accessToken: ESC_TOKEN,
      apiUrl: api.url,
      ...extra,
    };
  }
  const nameOf = (i: EscRotationScheduleInputs) => `acme/payments/${i.environment}`;
  const inFuture = (days: number) => new Date(Date.now() + days * DAY).toISOString();
  const requestsSince = (start: number) =>
    api.requests.slice(start).map((r) => `${r.method} ${r.path.replace(/^.*\/schedules/, "…")}`);

  it("creates a daily schedule rotating every rotated secret; outputs the id and next run", async () => {
    const i = inputs();
    const start = api.requests.length;
    const { id, outs } = await schedule.create(i);
    expect(requestsSince(start)).to.deep.equal(["GET …", "POST …"]);
    expect(JSON.parse(api.requests.at(-1)!.body)).to.deep.equal({
      scheduleCron: "0 3 * * *",
      secretRotationRequest: { environmentPath: "" },
    });
    const [stored] = api.schedules(nameOf(i));
    const o = outs as EscRotationScheduleOutputs;
    expect(id).to.equal(stored.id);
    expect(o).to.deep.include({ scheduleId: stored.id, paused: false, schedule: i.schedule });
    expect(o.nextExecution).to.match(/T03:00:00\.000Z$/);
    expect(new Date(o.nextExecution).getTime() - Date.now()).to.be.within(0, DAY);
  });

  it("creates a one-time schedule at the given instant", async () => {
    const at = new Date(Date.now() + 2 * DAY);
    at.setUTCMilliseconds(0);
    const local = at.toISOString().replace(".000Z", "+00:00");
    const { outs } = await schedule.create(inputs({ schedule: { once: local } }));
    const o = outs as EscRotationScheduleOutputs;
    expect(o.schedule).to.deep.equal({ once: local });
    expect(o.nextExecution).to.equal(at.toISOString());
  });

  it("updates in place with a PATCH, also from cron to once; a token change alone sends nothing", async () => {
    const i = inputs();
    const { id, outs } = await schedule.create(i);
    let start = api.requests.length;
    const weekly = await schedule.update(id, outs as EscRotationScheduleOutputs, {
      ...i,
      schedule: { cron: "30 4 * * 1" },
    });
    expect(requestsSince(start)).to.deep.equal([`PATCH …/${id}`]);
    expect(api.schedules(nameOf(i))[0].scheduleCron).to.equal("30 4 * * 1");
    expect((weekly.outs as EscRotationScheduleOutputs).nextExecution).to.match(/T04:30:00/);

    const once = inFuture(3);
    const switched = await schedule.update(id, weekly.outs as EscRotationScheduleOutputs, {
      ...i,
      schedule: { once },
    });
    const [stored] = api.schedules(nameOf(i));
    expect(stored).to.not.have.property("scheduleCron");
    expect(stored.scheduleOnce).to.be.a("string");
    expect((switched.outs as EscRotationScheduleOutputs).nextExecution).to.equal(once);

    start = api.requests.length;
    const rotatedToken = "pul-rotated-token-1234";
    const token = await schedule.update(id, switched.outs as EscRotationScheduleOutputs, {
      ...i,
      schedule: { once },
      accessToken: rotatedToken,
    });
    expect(requestsSince(start)).to.deep.equal([]);
    expect(token.outs).to.deep.equal({ ...switched.outs, accessToken: rotatedToken });
  });

  it("deletes the schedule; one already gone is fine", async () => {
    const i = inputs();
    const { id, outs } = await schedule.create(i);
    await schedule.remove(id, outs as EscRotationScheduleOutputs);
    expect(api.schedules(nameOf(i))).to.deep.equal([]);
    await schedule.remove(id, outs as EscRotationScheduleOutputs);
    expect(api.requests.at(-1)).to.include({ method: "DELETE", status: 404 });
  });

  it("refresh shows a change made outside, keeps the spelling of the same time, forgets a deleted one", async () => {
    const at = new Date(Date.now() + 2 * DAY);
    at.setUTCMilliseconds(0);
    const once = at.toISOString().replace(".000Z", "Z");
    const i = inputs({ schedule: { once } });
    const { id, outs } = await schedule.create(i);
    const same = await schedule.read(id, outs as EscRotationScheduleOutputs);
    expect(same).to.deep.equal({ id, props: outs });

    const other = escScheduleClient({ ...i });
    await other.update(id, {
      scheduleCron: "0 5 * * *",
      secretRotationRequest: { environmentPath: "" },
    });
    const drifted = await schedule.read(id, outs as EscRotationScheduleOutputs);
    expect((drifted.props as EscRotationScheduleOutputs).schedule).to.deep.equal({
      cron: "0 5 * * *",
    });
    expect((drifted.props as EscRotationScheduleOutputs).nextExecution).to.match(/T05:00:00/);

    await other.remove(id);
    const gone = await schedule.read(id, drifted.props as EscRotationScheduleOutputs);
    expect(gone).to.deep.equal({ id: undefined, props: {} });
  });

  it("refuses bad input before any request, each problem naming its input path", async () => {
    const start = api.requests.length;
    const bad = {
      ...inputs(),
      organization: "ac me",
      schedule: { cron: "*/10 * * * * *" },
      accessToken: "",
    };
    const error = await rejection(schedule.create(bad));
    expect(error).to.be.instanceOf(ValidationError);
    expect((error as ValidationError).problems).to.deep.equal([
      "organization must be 1-100 letters, digits, '.', '_' or '-'",
      'schedule.cron must have exactly 5 fields (minute hour day-of-month month day-of-week), not 6, e.g. "0 3 * * *" for 03:00 every day',
      "accessToken must be a non-empty string",
    ]);

    const hourly = await rejection(schedule.create(inputs({ schedule: { cron: "0 * * * *" } })));
    expect((hourly as ValidationError).problems).to.deep.equal([
      'schedule.cron: the hour must be one number from 0 to 23 (ESC rotates at most once a day), not "*"',
    ]);
    const past = await rejection(
      schedule.create(inputs({ schedule: { once: "2020-01-01T00:00:00Z" } })),
    );
    expect(past.message).to.equal(
      "invalid input: schedule.once must be in the future: 2020-01-01T00:00:00Z has passed",
    );
    const both = await rejection(
      schedule.create(inputs({ schedule: { cron: "0 3 * * *", once: inFuture(1) } as never })),
    );
    expect(both.message).to.match(/schedule must have exactly one of cron and once/);
    expect(api.requests.length).to.equal(start);

    const checked = await schedule.check({}, bad as unknown as Record<string, unknown>);
    expect(checked.failures!.map((f) => f.property)).to.deep.equal([
      "organization",
      "schedule",
      "accessToken",
    ]);
    // A one-time schedule that ran stays valid on later previews.
    const ran = await schedule.check(
      {},
      { ...inputs(), schedule: { once: "2020-01-01T00:00:00Z" } },
    );
    expect(ran.failures).to.deep.equal([]);
    expect(api.requests.length).to.equal(start);
  });

  it("reads a schedule key given as undefined as absent: check, create, diff, update", async () => {
    const once = inFuture(2);
    const onceWithCron = { once, cron: undefined } as never;
    const cronWithOnce = { cron: "0 3 * * *", once: undefined } as never;
    for (const given of [onceWithCron, cronWithOnce]) {
      const checked = await schedule.check({}, { ...inputs(), schedule: given });
      expect(checked.failures).to.deep.equal([]);
    }
    const i = inputs({ schedule: onceWithCron });
    const start = api.requests.length;
    const { id, outs } = await schedule.create(i);
    expect(JSON.parse(api.requests.at(-1)!.body)).to.deep.equal({
      scheduleOnce: new Date(once).toISOString(),
      secretRotationRequest: { environmentPath: "" },
    });
    expect(requestsSince(start)).to.deep.equal(["GET …", "POST …"]);
    const o = outs as EscRotationScheduleOutputs;
    expect(o.nextExecution).to.equal(new Date(once).toISOString());
    // The same schedule spelled without the undefined key is no change; a cron is one.
    expect((await schedule.diff(id, o, { ...i, schedule: { once } })).changes).to.equal(false);
    const toCron = { ...i, schedule: cronWithOnce };
    expect((await schedule.diff(id, o, toCron)).changes).to.equal(true);
    const { outs: next } = await schedule.update(id, o, toCron);
    expect(JSON.parse(api.requests.at(-1)!.body)).to.deep.equal({
      scheduleCron: "0 3 * * *",
      secretRotationRequest: { environmentPath: "" },
    });
    expect(api.schedules(nameOf(i))[0].scheduleCron).to.equal("0 3 * * *");
    expect((next as EscRotationScheduleOutputs).nextExecution).to.match(/T03:00:00\.000Z$/);
    const refreshed = await schedule.read(id, next as EscRotationScheduleOutputs);
    expect(refreshed.props.schedule).to.deep.equal(cronWithOnce);
  });

  it("an update moving a one-time schedule into the past is refused before any request", async () => {
    const i = inputs({ schedule: { once: inFuture(1) } });
    const { id, outs } = await schedule.create(i);
    const start = api.requests.length;
    const error = await rejection(
      schedule.update(id, outs as EscRotationScheduleOutputs, {
        ...i,
        schedule: { once: "2021-06-01T00:00:00Z" },
      }),
    );
    expect(error).to.be.instanceOf(ValidationError);
    expect(api.requests.length).to.equal(start);
  });

  it("an update to a schedule of the wrong shape is a ValidationError before any request", async () => {
    const i = inputs();
    const { id, outs } = await schedule.create(i);
    const start = api.requests.length;
    for (const bad of [{ cron: 3 }, "0 3 * * *", null]) {
      const error = await rejection(
        schedule.update(id, outs as EscRotationScheduleOutputs, {
          ...i,
          schedule: bad as never,
        }),
      );
      expect(error, JSON.stringify(bad)).to.be.instanceOf(ValidationError);
      expect(error.message).to.match(/schedule/);
    }
    expect(api.requests.length).to.equal(start);
  });

  it("refuses to take over a schedule made elsewhere, naming it; changes nothing", async () => {
    const i = inputs();
    const theirs = await escScheduleClient({ ...i }).create({
      scheduleCron: "0 1 * * *",
      secretRotationRequest: { environmentPath: "" },
    });
    const start = api.requests.length;
    const error = await rejection(schedule.create(i));
    expect(error).to.be.instanceOf(EscError);
    expect(error.message).to.equal(
      `ESC environment ${nameOf(i)} already has a rotation schedule (${theirs.id}), and ESC ` +
        `allows one per environment; nothing was changed. Remove it (\`pulumi env schedule rm ` +
        `${nameOf(i)} ${theirs.id}\`) to manage the schedule here`,
    );
    expect((error as EscError).status).to.equal(409);
    expect(requestsSince(start)).to.deep.equal(["GET …"]);
    expect(api.schedules(nameOf(i))).to.deep.equal([theirs]);
  });

  it("403 says the rotation feature is not enabled; no error shows the token", async () => {
    api.rotationDisabled.add("acme");
    const off = await rejection(schedule.create(inputs())).finally(() =>
      api.rotationDisabled.delete("acme"),
    );
    expect(off).to.be.instanceOf(EscError);
    expect(off.message).to.include("the secret rotation feature is not enabled for organization");
    expectNoSecrets(renderings(off), [ESC_TOKEN]);

    const wrong = "pul-wrong-token-for-schedules-7";
    const refused = await rejection(schedule.create(inputs({ accessToken: wrong })));
    expect(refused.message).to.include("HTTP 401");
    expectNoSecrets(renderings(refused), [wrong]);
  });

  it("an update of a schedule deleted outside says to refresh", async () => {
    const i = inputs();
    const { id, outs } = await schedule.create(i);
    await escScheduleClient({ ...i }).remove(id);
    const error = await rejection(
      schedule.update(id, outs as EscRotationScheduleOutputs, {
        ...i,
        schedule: { cron: "0 6 * * *" },
      }),
    );
    expect(error).to.be.instanceOf(EscError);
    expect((error as EscError).status).to.equal(404);
    expect(error.message).to.include("no longer exists").and.include("pulumi refresh");
  });

  it("diff: another environment or URL replaces (old one deleted first); a new time updates", async () => {
    const olds = {
      ...inputs(),
      schedule: { once: "2026-12-01T03:00:00Z" },
      scheduleId: "s",
      nextExecution: "",
      paused: false,
    };
    const moved = await schedule.diff("s", olds, { ...olds, environment: "elsewhere" });
    expect(moved).to.deep.equal({
      changes: true,
      replaces: ["environment"],
      deleteBeforeReplace: true,
    });
    const later = await schedule.diff("s", olds, { ...olds, schedule: { cron: "0 3 * * *" } });
    expect(later).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: true });
    const respelled = await schedule.diff("s", olds, {
      ...olds,
      schedule: { once: "2026-12-01T04:00:00+01:00" },
    });
    expect(respelled.changes).to.equal(false);
    // A token change alone is an update (sent to nobody); an absent token and an empty one are
    // the same, as are an absent URL and an empty one.
    const token = await schedule.diff("s", olds, { ...olds, accessToken: "pul-another-token" });
    expect(token).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: true });
    const bare = { ...olds, accessToken: undefined, apiUrl: undefined };
    expect(await schedule.diff("s", bare, { ...bare, accessToken: "", apiUrl: "" })).to.deep.equal({
      changes: false,
      replaces: [],
      deleteBeforeReplace: true,
    });
    expect(
      (await schedule.diff("s", { ...bare, accessToken: "", apiUrl: "" }, bare)).changes,
    ).to.equal(false);
  });

  it("refresh shows a schedule paused outside Pulumi as paused", async () => {
    const i = inputs();
    const { id, outs } = await schedule.create(i);
    const paused = await fetch(
      `${api.url}/api/esc/environments/${nameOf(i)}/schedules/${id}/pause`,
      { method: "POST", headers: { Authorization: `token ${ESC_TOKEN}` } },
    );
    expect(paused.status).to.equal(200);
    const read = await schedule.read(id, outs as EscRotationScheduleOutputs);
    expect((read.props as EscRotationScheduleOutputs).paused).to.equal(true);
  });
});
