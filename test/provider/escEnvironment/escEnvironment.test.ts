/**
 * `EscEnvironment` as Pulumi runs it: the resource's wire format under mocks, and the
 * installed package's serialized provider creating an environment from a separate process.
 */
import { expect } from "chai";
import {
  EscEnvironment,
  ESC_SECRET_OUTPUTS,
} from "../../../provider/escEnvironment/escEnvironment";
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

describe("EscEnvironment (Pulumi mocks)", () => {
  let seen: Registration[] = [];
  before(async () => {
    seen = await mockAndRecord();
  });

  it("sends the YAML and the token as secrets and asks for secret outputs", async () => {
    const env = new EscEnvironment("creds", {
      organization: "acme",
      project: "payments",
      name: "credentials",
      yaml: "values:\n  managingUser:\n    password:\n      fn::secret: plain-pw\n",
      accessToken: "pul-token",
    });
    await new Promise((resolve) => env.urn.apply(resolve));
    const registered = seen.at(-1)!;
    // The literal list, on the wire: not the source's own constant compared with itself.
    expect(registered.additionalSecretOutputs).to.have.members(["yaml", "accessToken"]);
    expect(ESC_SECRET_OUTPUTS).to.have.members(["yaml", "accessToken"]);
    for (const key of ["yaml", "accessToken"]) {
      expect(registered.object[key]).to.have.property(SECRET_SIG);
    }
    expect(registered.object.organization).to.equal("acme");
  });
});

const SERIALIZE = serializeProviderScript("escEnvironmentProvider");

const PROVIDER_HOST = providerHostScript(`
  const created = await provider.create(inputs);
  process.stdout.write(JSON.stringify(created));
`);

describe("escEnvironmentProvider as Pulumi stores and runs it", function () {
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
      /require\("pulumi-postgres-rotator\/(dist\/)?provider\/escEnvironment\/escEnvironmentProvider(\.js)?"\)/,
    );
    expect(text.length).to.be.below(400);
    expectNoSecrets(text, [ESC_TOKEN]);
  });

  it("holds no secret of a resource registered with secret inputs", async () => {
    const yamlSecret = "yaml-secret-5b1e";
    const args = {
      organization: "acme",
      project: "payments",
      name: "probe",
      yaml: `values:\n  managingUser:\n    password:\n      fn::secret: ${yamlSecret}\n`,
      accessToken: ESC_TOKEN,
    };
    const registered = JSON.parse(
      await installed.run(registeredProviderScript("EscEnvironment", JSON.stringify(args))),
    ) as { text: string };
    expect(registered.text).to.match(
      /require\("pulumi-postgres-rotator\/(dist\/)?provider\/escEnvironment\/escEnvironmentProvider(\.js)?"\)/,
    );
    expectNoSecrets(registered.text, [ESC_TOKEN, yamlSecret]);
  });

  it("creates an environment from that text in a separate process", async () => {
    const inputs = {
      organization: "acme",
      project: "payments",
      name: "from-host",
      yaml: "values:\n  greeting: hello\n",
      accessToken: ESC_TOKEN,
      apiUrl: api.url,
    };
    const created = JSON.parse(
      await installed.run(PROVIDER_HOST, JSON.stringify({ text, inputs })),
    ) as {
      id: string;
    };
    expect(created.id).to.equal("acme/payments/from-host");
    expect(api.stored("acme/payments/from-host")).to.include("greeting: hello");
  });
});
