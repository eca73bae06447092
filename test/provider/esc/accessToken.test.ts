/**
 * The access token never shows in an error, whatever surrounds it: a token read from a file
 * (a trailing newline, `\r\n`, spaces) is sent trimmed, so every form of it must be redacted.
 * Each of the eight calls of `EscEnvironment` and `EscRotationSchedule` (create, read, update,
 * delete), and the rotation-history read of `rotateAfter`, runs through its provider against the ESC stand-in, which answers with an error that
 * echoes the request, headers and body, as a proxy that refuses it may do.
 */
import { expect } from "chai";
import * as environment from "../../../provider/escEnvironment/handlers";
import type {
  EscEnvironmentInputs,
  EscEnvironmentOutputs,
} from "../../../provider/escEnvironment/handlers";
import * as schedule from "../../../provider/escRotationSchedule/handlers";
import type {
  EscRotationScheduleInputs,
  EscRotationScheduleOutputs,
} from "../../../provider/escRotationSchedule/handlers";
import { EscError } from "../../../provider/errors";
import { escRotationHistory } from "../../../provider/esc/rotationHistory";
import { ESC_TOKEN, startEscStandIn, type EscStandIn } from "../../support/escStandIn";
import { expectNoSecrets, rejection, renderings } from "../../support/secrets";

/** The stand-in's token as it may come from a file or a secret store. */
const PADDED = [`${ESC_TOKEN}\n`, `${ESC_TOKEN}\r\n`, `  ${ESC_TOKEN} `, `\t${ESC_TOKEN}\n\n`];

/** Every form of `token` a reply could carry: as given, trimmed, JSON-escaped, as the header. */
const forms = (token: string) => [
  token,
  token.trim(),
  JSON.stringify(token).slice(1, -1),
  `token ${token.trim()}`,
];

describe("ESC access token with surrounding whitespace (local ESC stand-in, real esc-sdk)", () => {
  let api: EscStandIn;
  let counter = 0;
  before(async () => (api = await startEscStandIn()));
  after(() => api?.close());
  afterEach(() => (api.echoRequest = undefined));

  function environmentInputs(): EscEnvironmentInputs {
    counter += 1;
    return {
      organization: "acme",
      project: "payments",
      name: `token-env-${counter}`,
      yaml: "values:\n  greeting: hello\n",
      accessToken: ESC_TOKEN,
      apiUrl: api.url,
    };
  }
  function scheduleInputs(): EscRotationScheduleInputs {
    counter += 1;
    const name = `token-rotator-${counter}`;
    api.write(`acme/payments/${name}`, "values:\n  dbRotator: {}\n");
    return {
      organization: "acme",
      project: "payments",
      environment: name,
      schedule: { cron: "0 3 * * *" },
      accessToken: ESC_TOKEN,
      apiUrl: api.url,
    };
  }

  /** `call` with `token` fails with an EscError that quotes the request, the token redacted. */
  async function expectRedacted(
    token: string,
    echoed: (method: string) => boolean,
    call: () => Promise<unknown>,
  ): Promise<void> {
    const start = api.requests.length;
    api.echoRequest = (method) => (echoed(method) ? 401 : undefined);
    const error = await rejection(call());
    api.echoRequest = undefined;
    expect(error).to.be.instanceOf(EscError);
    expectNoSecrets(renderings(error), forms(token));
    const refused = api.requests.slice(start).filter((r) => r.status === 401);
    expect(refused, "requests answered with the echo").to.have.length(1);
    // The echo reached the error: the stand-in quoted the header, with the token redacted.
    expect(refused[0].headers.authorization).to.equal(`token ${ESC_TOKEN}`);
    expect(error.message).to.match(/authorization.+\[redacted\]/i);
  }

  const every = () => true;
  for (const token of PADDED) {
    const label = JSON.stringify(token).replace(ESC_TOKEN, "<token>");
    describe(`token ${label}`, () => {
      it("EscEnvironment create: a refused first request, and a refused write", async () => {
        await expectRedacted(token, every, () =>
          environment.create({ ...environmentInputs(), accessToken: token }),
        );
        await expectRedacted(
          token,
          (method) => method === "PATCH",
          () => environment.create({ ...environmentInputs(), accessToken: token }),
        );
      });

      it("EscEnvironment read", async () => {
        const i = environmentInputs();
        const { id, outs } = await environment.create(i);
        await expectRedacted(token, every, () =>
          environment.read(id, { ...(outs as EscEnvironmentOutputs), accessToken: token }),
        );
      });

      it("EscEnvironment update: a refused read, and a refused write", async () => {
        const i = environmentInputs();
        const { id, outs } = await environment.create(i);
        const news = { ...i, yaml: "values:\n  greeting: hi\n", accessToken: token };
        await expectRedacted(token, every, () =>
          environment.update(id, outs as EscEnvironmentOutputs, news),
        );
        await expectRedacted(
          token,
          (method) => method === "PATCH",
          () => environment.update(id, outs as EscEnvironmentOutputs, news),
        );
      });

      it("EscEnvironment delete", async () => {
        const i = environmentInputs();
        const { id, outs } = await environment.create(i);
        await expectRedacted(token, every, () =>
          environment.remove(id, { ...(outs as EscEnvironmentOutputs), accessToken: token }),
        );
      });

      it("EscRotationSchedule create: a refused list, and a refused create", async () => {
        await expectRedacted(token, every, () =>
          schedule.create({ ...scheduleInputs(), accessToken: token }),
        );
        await expectRedacted(
          token,
          (method) => method === "POST",
          () => schedule.create({ ...scheduleInputs(), accessToken: token }),
        );
      });

      it("EscRotationSchedule read", async () => {
        const { id, outs } = await schedule.create(scheduleInputs());
        await expectRedacted(token, every, () =>
          schedule.read(id, { ...(outs as EscRotationScheduleOutputs), accessToken: token }),
        );
      });

      it("EscRotationSchedule update", async () => {
        const i = scheduleInputs();
        const { id, outs } = await schedule.create(i);
        await expectRedacted(token, every, () =>
          schedule.update(id, outs as EscRotationScheduleOutputs, {
            ...i,
            schedule: { cron: "30 4 * * 1" },
            accessToken: token,
          }),
        );
      });

      it("ESC rotation history (read by rotateAfter)", async () => {
        const { environment: name } = scheduleInputs();
        await expectRedacted(token, every, () =>
          escRotationHistory({
            organization: "acme",
            project: "payments",
            environment: name,
            accessToken: token,
            apiUrl: api.url,
          }),
        );
      });

      it("EscRotationSchedule delete", async () => {
        const { id, outs } = await schedule.create(scheduleInputs());
        await expectRedacted(token, every, () =>
          schedule.remove(id, { ...(outs as EscRotationScheduleOutputs), accessToken: token }),
        );
      });
    });
  }

  it("PULUMI_ACCESS_TOKEN with a trailing newline is sent trimmed and never shows", async () => {
    const saved = process.env.PULUMI_ACCESS_TOKEN;
    process.env.PULUMI_ACCESS_TOKEN = `${ESC_TOKEN}\n`;
    try {
      const { id, outs } = await environment.create({
        ...environmentInputs(),
        accessToken: undefined,
      });
      expect(api.requests.at(-1)!.headers.authorization).to.equal(`token ${ESC_TOKEN}`);
      await expectRedacted(`${ESC_TOKEN}\n`, every, () =>
        environment.read(id, outs as EscEnvironmentOutputs),
      );
      const created = await schedule.create({ ...scheduleInputs(), accessToken: undefined });
      await expectRedacted(`${ESC_TOKEN}\n`, every, () =>
        schedule.remove(created.id, created.outs as EscRotationScheduleOutputs),
      );
    } finally {
      if (saved === undefined) delete process.env.PULUMI_ACCESS_TOKEN;
      else process.env.PULUMI_ACCESS_TOKEN = saved;
    }
  });
});
