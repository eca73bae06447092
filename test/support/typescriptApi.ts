/**
 * The package's TypeScript API as the compiler sees it: the properties of an args interface (or
 * of each arm of a union of object shapes), whether each is optional, its TSDoc and the kind of
 * value it takes; and the `Output` properties a class declares. What the schema drift test
 * compares `provider/plugin/schema.json` against.
 */
import * as path from "node:path";
import * as ts from "typescript";

const ROOT = path.join(__dirname, "..", "..");

export interface ApiProperty {
  readonly name: string;
  readonly optional: boolean;
  /** The TSDoc text, then `Default: …` when it has `@default`. */
  readonly description: string;
  readonly deprecated?: string;
  /** `string`, `number`, `boolean`, `array`, `map`, `object`, or kinds joined by `|`. */
  readonly kind: string;
}

export interface TypeScriptApi {
  /**
   * The properties of exported interfaces or type aliases: one, or the arms of a union (merged,
   * each then optional, as in the schema's paired fields).
   */
  properties(file: string, names: readonly string[]): ApiProperty[];
  /** A class's TSDoc text, its tags (`@example`) left out. */
  classDescription(file: string, className: string): string;
  /** The `pulumi.Output` properties a class declares itself; optional when they may be undefined. */
  outputs(file: string, className: string): ApiProperty[];
}

/** The description the schema gives a property with this TSDoc. */
export function describe(symbol: ts.Symbol, checker: ts.TypeChecker): string {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  const fallback = symbol.getJsDocTags(checker).find((tag) => tag.name === "default");
  const shown = fallback ? ts.displayPartsToString(fallback.text).trim() : "";
  return [text, shown && `Default: ${shown}`].filter(Boolean).join("\n\n");
}

export function loadTypeScriptApi(files: readonly string[]): TypeScriptApi {
  const program = ts.createProgram(
    files.map((file) => path.join(ROOT, file)),
    {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      skipLibCheck: true,
    },
  );
  const checker = program.getTypeChecker();

  const exported = (file: string, name: string): ts.Symbol => {
    const source = program.getSourceFile(path.join(ROOT, file));
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    const found =
      moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === name);
    if (!found) throw new Error(`${file} exports no ${name}`);
    return found.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(found) : found;
  };

  /** The type a value of `type` may be, `pulumi.Input`, `Promise`, `Output` and `undefined` taken off. */
  const plainMembers = (type: ts.Type): ts.Type[] => {
    const members = type.isUnion() ? type.types : [type];
    return members.flatMap((member) => {
      if (member.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)) return [];
      const name = member.getSymbol()?.getName();
      if (name === "Promise" || name === "OutputInstance" || name === "Output") return [];
      return [member];
    });
  };

  const kindOf = (type: ts.Type): string => {
    const kinds = new Set(
      plainMembers(type).map((member) => {
        if (member.flags & ts.TypeFlags.StringLike) return "string";
        if (member.flags & ts.TypeFlags.NumberLike) return "number";
        if (member.flags & ts.TypeFlags.BooleanLike) return "boolean";
        if (checker.isArrayType(member) || checker.isTupleType(member)) return "array";
        if (member.getStringIndexType()) return "map";
        return "object";
      }),
    );
    return [...kinds].sort().join("|");
  };

  const property = (symbol: ts.Symbol, optional: boolean, type: ts.Type): ApiProperty => {
    const deprecated = symbol.getJsDocTags(checker).find((tag) => tag.name === "deprecated");
    return {
      name: symbol.getName(),
      optional: optional || (symbol.flags & ts.SymbolFlags.Optional) !== 0,
      description: describe(symbol, checker),
      ...(deprecated ? { deprecated: ts.displayPartsToString(deprecated.text).trim() } : {}),
      kind: kindOf(type),
    };
  };

  return {
    properties(file, names) {
      const arms = names.flatMap((name) => {
        const type = checker.getDeclaredTypeOfSymbol(exported(file, name));
        return type.isUnion() ? type.types : [type];
      });
      const byName = new Map<string, ApiProperty>();
      for (const arm of arms) {
        for (const symbol of checker.getPropertiesOfType(arm)) {
          // `arn?: never` only says the arm has no such field.
          const type = checker.getTypeOfSymbol(symbol);
          if (plainMembers(type).every((member) => member.flags & ts.TypeFlags.Never)) continue;
          if (!byName.has(symbol.getName())) {
            byName.set(symbol.getName(), property(symbol, arms.length > 1, type));
          }
        }
      }
      return [...byName.values()];
    },
    classDescription(file, className) {
      const symbol = exported(file, className);
      return ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
    },
    outputs(file, className) {
      const symbol = exported(file, className);
      const type = checker.getDeclaredTypeOfSymbol(symbol);
      return checker
        .getPropertiesOfType(type)
        .filter((p) => p.declarations?.some((d) => d.parent === symbol.declarations?.[0]))
        .flatMap((p) => {
          // `pulumi.Output<T>` as written: its `T` is the kind of value.
          const node = (p.valueDeclaration as ts.PropertyDeclaration | undefined)?.type;
          if (!node || !ts.isTypeReferenceNode(node) || !/Output$/.test(node.typeName.getText())) {
            return [];
          }
          const inner = node.typeArguments?.[0];
          if (!inner) return [];
          const value = checker.getTypeFromTypeNode(inner);
          // Optional when the value may be undefined.
          const members = value.isUnion() ? value.types : [value];
          const optional = members.some((m) => m.flags & ts.TypeFlags.Undefined);
          return [property(p, optional, value)];
        });
    },
  };
}
