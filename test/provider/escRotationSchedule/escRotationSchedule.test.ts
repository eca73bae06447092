/**
 * `EscRotationSchedule` as Pulumi runs it: the resource's wire format under mocks, and the
 * installed package's serialized provider creating a schedule from a separate process.
 */
import { expect } from "chai";
import {
  EscRotationSchedule,
  ESC_SCHEDULE_SECRET_OUTPUTS,
} from "../../../provider/escRotationSchedule/escRotationSchedule";
import { ESC_TOKEN, startEscStandIn, type EscStandIn } from "../../support/escStandIn";
import {
  installPackedPackage,
  providerHostScript,
  registeredProviderScript,
  serializeProviderScript,
  type InstalledPackage,
} from "../../support/installedPackage";
import { expectNoSecrets } from "../../support/secrets";
import { mockAndRecord, SECRET_SIG, type Registration } from "../../support/pulumiMocks";

describe("EscRotationSchedule (Pulumi mocks)", () => {
  let seen: Registration[] = [];
  before(async () => {
    seen = await mockAndRecord();
  });

  it("sends the token as a secret and asks for it as a secret output", async () => {
    const resource = new EscRotationSchedule("daily", {
      organization: "acme",
      project: "payments",
      environment: "db-rotator",
      schedule: { cron: "0 3 * * *" },
      accessToken: "pul-plain-token",
    });
    await new Promise((resolve) => resource.urn.apply(resolve));
    const registered = seen.at(-1)!;
    expect(registered.type).to.equal("pulumi-nodejs:dynamic/postgres-rotator:EscRotationSchedule");
    expect(registered.additionalSecretOutputs).to.deep.equal(ESC_SCHEDULE_SECRET_OUTPUTS);
    expect(registered.additionalSecretOutputs).to.deep.equal(["accessToken"]);
    expect(registered.object.accessToken).to.have.property(SECRET_SIG);
    expect(JSON.stringify(registered.object.accessToken)).to.include("pul-plain-token");
    expect(registered.object.schedule).to.deep.equal({ cron: "0 3 * * *" });
    expect(registered.object.organization).to.equal("acme");
  });

  it("sends no token at all when none is given (PULUMI_ACCESS_TOKEN is read when it runs)", async () => {
    const resource = new EscRotationSchedule("once", {
      organization: "acme",
      project: "payments",
      environment: "db-rotator",
      schedule: { once: "2030-01-01T00:00:00Z" },
    });
    await new Promise((resolve) => resource.urn.apply(resolve));
    expect(seen.at(-1)!.object).to.not.have.property("accessToken");
  });
});

const SERIALIZE = serializeProviderScript("escRotationScheduleProvider");

const PROVIDER_HOST = providerHostScript(`
  const created = await provider.create(inputs);
  process.stdout.write(JSON.stringify(created));
`);

describe("escRotationScheduleProvider as Pulumi stores and runs it", function () {
  this.timeout(120_000);
  let installed: InstalledPackage;
  let api: EscStandIn;
  let text: string;
  before(async () => {
    installed = installPackedPackage();
    api = await startEscStandIn();
    text = await installed.run(SERIALIZE);
  });
  after(async () => {
    installed?.remove();
    await api?.close();
  });

  it("serializes to a small text that loads the installed package by name", () => {
    // Installed under node_modules: stored as a require of the provider module by name, no code.
    expect(text).to.match(
      /require\("pulumi-postgres-rotator\/(dist\/)?provider\/escRotationSchedule\/escRotationScheduleProvider(\.js)?"\)/,
    );
    expect(text.length).to.be.below(400);
    expectNoSecrets(text, [ESC_TOKEN]);
  });

  it("holds no secret of a resource registered with secret inputs", async () => {
    const args = {
      organization: "acme",
      project: "payments",
      environment: "db-rotator",
      schedule: { cron: "0 3 * * *" },
      accessToken: ESC_TOKEN,
    };
    const registered = JSON.parse(
      await installed.run(registeredProviderScript("EscRotationSchedule", JSON.stringify(args))),
    ) as { text: string };
    expect(registered.text).to.match(
      /require\("pulumi-postgres-rotator\/(dist\/)?provider\/escRotationSchedule\/escRotationScheduleProvider(\.js)?"\)/,
    );
    expectNoSecrets(registered.text, [ESC_TOKEN]);
  });

  it("creates a schedule from that text in a separate process", async () => {
    api.write("acme/payments/from-host", "values:\n  dbRotator: {}\n");
    const inputs = {
      organization: "acme",
      project: "payments",
      environment: "from-host",
      schedule: { cron: "15 2 * * *" },
      accessToken: ESC_TOKEN,
      apiUrl: api.url,
    };
    const created = JSON.parse(
      await installed.run(PROVIDER_HOST, JSON.stringify({ text, inputs })),
    ) as { id: string; outs: { scheduleId: string } };
    const [stored] = api.schedules("acme/payments/from-host");
    expect(stored.scheduleCron).to.equal("15 2 * * *");
    expect(created.id).to.equal(stored.id);
    expect(created.outs.scheduleId).to.equal(stored.id);
  });
});
