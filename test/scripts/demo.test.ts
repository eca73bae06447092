/** `npm run demo`, as the README's first command runs it (minus the build). */
import { expect } from "chai";
import { runDemo } from "../../scripts/demo";
import { expectNoSecrets } from "../support/secrets";

describe("scripts/demo (npm run demo)", function () {
  this.timeout(40 * 60_000); // the first run on a machine may build the CLI

  it("creates both users, then rotates app_user_2 and app_user_1, every known password logging in", async () => {
    const lines: string[] = [];
    const result = await runDemo((line) => lines.push(line));
    expect(result).to.deep.include({
      currents: ["app_user_1", "app_user_2", "app_user_1"],
      allLoggedIn: true,
    });
    const text = lines.join("\n");
    // It never prints a password: the manager's, both initial ones and the two rotated ones.
    expect(result.passwords).to.have.length(5);
    expectNoSecrets(text, result.passwords);
    expect(text).to.match(/after first up +app_user_1 +logs in ✓ +app_user_2 +logs in ✓/);
    expect(text).to.match(/after trigger 1 → 2 +app_user_2 +logs in ✓ +app_user_1 +logs in ✓/);
    expect(text).to.match(/after trigger 2 → 3 +app_user_1 +logs in ✓ +app_user_2 +logs in ✓/);
    expect(text).to.include("server stopped and its files removed");
  });
});
