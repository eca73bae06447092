/**
 * README.md's code blocks marked `<!-- example: <file> -->` are the tested examples' own lines:
 * each such block is a run of whole, consecutive lines of that file, so the README cannot show
 * code the end-to-end tests do not run. The Python program is shown whole (all but its
 * docstring). The same idea as scripts/setupSql.ts, which runs the README's setup SQL itself.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";

const ROOT = path.join(__dirname, "..");

interface Snippet {
  readonly file: string;
  readonly code: string;
}

/** Every `<!-- example: <file> -->` of the README with the fenced block that follows it. */
export function readmeExamples(readme: string): Snippet[] {
  const snippets: Snippet[] = [];
  const marker = /<!-- example: (\S+) -->\n\n```[a-z]*\n([\s\S]*?)```\n/g;
  for (const match of readme.matchAll(marker)) snippets.push({ file: match[1], code: match[2] });
  const markers = readme.match(/<!-- example:/g)?.length ?? 0;
  if (markers !== snippets.length) {
    throw new Error(
      `README.md has ${markers} example markers, ${snippets.length} followed by code`,
    );
  }
  return snippets;
}

/** Whether `code` (whole lines, each ending in a newline) is a run of consecutive lines of text. */
function isRunOfLines(code: string, text: string): boolean {
  return `\n${text}`.includes(`\n${code}`);
}

describe("README.md's example snippets", () => {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const snippets = readmeExamples(readme);

  it("marks the Python program, the Go program's core, go.mod and every Pulumi.yaml's plugin lines and the YAML resources", () => {
    expect(snippets.map((s) => s.file)).to.deep.equal([
      "examples/python/Pulumi.yaml",
      "examples/python/__main__.py",
      "examples/go/go.mod",
      "examples/go/Pulumi.yaml",
      "examples/go/main.go",
      "examples/yaml/Pulumi.yaml",
      "examples/yaml/Pulumi.yaml",
    ]);
  });

  for (const [i, snippet] of snippets.entries()) {
    it(`snippet ${i + 1} is consecutive whole lines of ${snippet.file}`, () => {
      const text = fs.readFileSync(path.join(ROOT, snippet.file), "utf8");
      expect(snippet.code.split("\n").length).to.be.above(3);
      expect(
        isRunOfLines(snippet.code, text),
        `README.md's snippet differs from ${snippet.file}:\n${snippet.code}`,
      ).to.equal(true);
    });
  }

  it("shows the Python program whole, all but its docstring", () => {
    const program = fs.readFileSync(path.join(ROOT, "examples", "python", "__main__.py"), "utf8");
    const [snippet] = snippets.filter((s) => s.file === "examples/python/__main__.py");
    expect(program.endsWith(snippet.code)).to.equal(true);
    expect(program.slice(0, program.length - snippet.code.length)).to.match(/^"""[^]*?"""\n\n$/);
  });
});
