/**
 * `provider/plugin/schema.json` against the TypeScript API it describes (read by the TypeScript
 * compiler, `test/support/typescriptApi.ts`): every type, resource and component has the same
 * properties, each equally optional, with the TSDoc as its description (`Default: …` from
 * `@default`), the same `@deprecated` note and the same kind of value; outputs as the classes
 * declare them, secret where the classes make them secret. An input added to an args interface
 * and not to the schema (or the other way round) fails here.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { loadTypeScriptApi, type ApiProperty } from "../../support/typescriptApi";
import { SCHEMA_FILES, SCHEMA_RESOURCES, SCHEMA_TYPES } from "./schemaMap";
import { SECRET_OUTPUTS } from "../../../provider/postgresRotation/postgresRotation";
import { USER_PAIR_SECRET_OUTPUTS } from "../../../provider/postgresUserPair/postgresUserPair";
import { ESC_SECRET_OUTPUTS } from "../../../provider/escEnvironment/escEnvironment";
import { ESC_SCHEDULE_SECRET_OUTPUTS } from "../../../provider/escRotationSchedule/escRotationSchedule";

const P = "postgres-rotator:index:";

interface SchemaProperty {
  readonly type?: string;
  readonly $ref?: string;
  readonly oneOf?: readonly SchemaProperty[];
  readonly items?: SchemaProperty;
  readonly additionalProperties?: SchemaProperty;
  readonly description?: string;
  readonly deprecationMessage?: string;
  readonly secret?: boolean;
}
type Properties = Readonly<Record<string, SchemaProperty>>;
interface Schema {
  readonly name: string;
  readonly types: Readonly<
    Record<string, { readonly properties: Properties; readonly required?: readonly string[] }>
  >;
  readonly resources: Readonly<
    Record<
      string,
      {
        readonly isComponent?: boolean;
        readonly description?: string;
        readonly inputProperties: Properties;
        readonly requiredInputs?: readonly string[];
        readonly properties: Properties;
        readonly requiredOutputs?: readonly string[];
      }
    >
  >;
}

const schema = JSON.parse(
  fs.readFileSync(path.join(__dirname, "../../../provider/plugin/schema.json"), "utf8"),
) as Schema;

/** The kind of value a schema property takes, in `typescriptApi`'s words. */
function kindOf(property: SchemaProperty): string {
  if (property.oneOf) return [...new Set(property.oneOf.map(kindOf))].sort().join("|");
  if (property.$ref) return property.$ref === "pulumi.json#/Any" ? "any" : "object";
  if (property.type === "integer" || property.type === "number") return "number";
  if (property.type === "object") return property.additionalProperties ? "map" : "object";
  return property.type ?? "";
}

/** Every difference between the schema's properties and the TypeScript ones, one line each. */
function differences(
  where: string,
  properties: Properties,
  required: readonly string[],
  api: readonly ApiProperty[],
): string[] {
  const found: string[] = [];
  const names = new Set([...Object.keys(properties), ...api.map((p) => p.name)]);
  for (const name of names) {
    const mine = properties[name];
    const theirs = api.find((p) => p.name === name);
    if (!mine) {
      found.push(`${where}.${name}: in TypeScript, not in the schema`);
      continue;
    }
    if (!theirs) {
      found.push(`${where}.${name}: in the schema, not in TypeScript`);
      continue;
    }
    if (required.includes(name) === theirs.optional) {
      found.push(`${where}.${name}: ${theirs.optional ? "optional" : "required"} in TypeScript`);
    }
    if ((mine.description ?? "") !== theirs.description) {
      found.push(`${where}.${name}: description differs from the TSDoc`);
    }
    if (mine.deprecationMessage !== theirs.deprecated) {
      found.push(`${where}.${name}: deprecation differs`);
    }
    const kind = kindOf(mine);
    if (kind !== "any" && kind !== theirs.kind) {
      found.push(`${where}.${name}: ${kind} in the schema, ${theirs.kind} in TypeScript`);
    }
  }
  return found;
}

describe("provider/plugin/schema.json against the TypeScript API", function () {
  this.timeout(60_000);
  const api = loadTypeScriptApi(SCHEMA_FILES);

  it("names the package and nothing but its own types", () => {
    expect(schema.name).to.equal("postgres-rotator");
    const tokens = (record: object) => Object.keys(record).map((token) => token.replace(P, ""));
    expect(tokens(schema.types)).to.have.members(Object.keys(SCHEMA_TYPES));
    expect(tokens(schema.resources)).to.have.members(Object.keys(SCHEMA_RESOURCES));
    const refs = JSON.stringify(schema).match(/"\$ref":\s*"[^"]+"/g) ?? [];
    for (const ref of refs) {
      const target = JSON.parse(`{${ref}}`).$ref as string;
      if (target === "pulumi.json#/Any") continue;
      expect(schema.types, target).to.have.property(target.replace("#/types/", ""));
    }
  });

  it("marks the two components as components and the four resources as custom resources", () => {
    const components = Object.entries(schema.resources)
      .filter(([, resource]) => resource.isComponent)
      .map(([token]) => token);
    expect(components).to.have.members([`${P}RotatedPostgresCredentials`, `${P}LambdaConnector`]);
  });

  for (const [token, declaration] of Object.entries(SCHEMA_TYPES)) {
    it(`type ${token} has the properties of ${declaration.names.join(" | ")}`, () => {
      const type = schema.types[P + token];
      const found = differences(
        token,
        type.properties,
        type.required ?? [],
        api.properties(declaration.file, declaration.names),
      );
      expect(found).to.deep.equal([]);
    });
  }

  for (const [token, declaration] of Object.entries(SCHEMA_RESOURCES)) {
    const resource = () => schema.resources[P + token];
    it(`${token}'s description is the TSDoc of the class`, () => {
      expect(resource().description).to.equal(
        api.classDescription(declaration.file, declaration.className),
      );
    });
    it(`${token}'s inputs are ${declaration.args}`, () => {
      const found = differences(
        `${token} input`,
        resource().inputProperties,
        resource().requiredInputs ?? [],
        api.properties(declaration.file, [declaration.args]),
      );
      expect(found).to.deep.equal([]);
    });
    it(`${token}'s outputs are the Output properties of the class`, () => {
      const found = differences(
        `${token} output`,
        resource().properties,
        resource().requiredOutputs ?? [],
        api.outputs(declaration.file, declaration.className),
      );
      expect(found).to.deep.equal([]);
    });
  }

  it("marks secret every output the classes make secret, and the component's credentials", () => {
    const secretOutputs: Record<string, readonly string[]> = {
      PostgresRotation: SECRET_OUTPUTS,
      PostgresUserPair: USER_PAIR_SECRET_OUTPUTS,
      EscEnvironment: ESC_SECRET_OUTPUTS,
      EscRotationSchedule: ESC_SCHEDULE_SECRET_OUTPUTS,
      RotatedPostgresCredentials: ["current", "previous"],
    };
    for (const [token, keys] of Object.entries(secretOutputs)) {
      const properties = schema.resources[P + token].properties;
      for (const key of keys.filter((k) => k in properties)) {
        expect(properties[key].secret, `${token}.${key}`).to.equal(true);
      }
    }
  });

  it("marks secret every input that holds a password or a token", () => {
    const secret = (where: Properties, key: string) => where[key].secret === true;
    expect(secret(schema.types[`${P}Credential`].properties, "password")).to.equal(true);
    expect(secret(schema.types[`${P}PreviousCredential`].properties, "password")).to.equal(true);
    expect(secret(schema.types[`${P}EscState`].properties, "accessToken")).to.equal(true);
    expect(secret(schema.types[`${P}CredentialsEsc`].properties, "accessToken")).to.equal(true);
    for (const token of ["PostgresRotation", "RotatedPostgresCredentials"]) {
      expect(secret(schema.resources[P + token].inputProperties, "state"), token).to.equal(true);
    }
    for (const token of ["EscEnvironment", "EscRotationSchedule"]) {
      expect(secret(schema.resources[P + token].inputProperties, "accessToken")).to.equal(true);
    }
    expect(secret(schema.resources[`${P}EscEnvironment`].inputProperties, "yaml")).to.equal(true);
  });
});
