/**
 * End to end: examples/yaml (one `RotatedPostgresCredentials`, direct mode, in a Pulumi YAML
 * program) deployed by the real Pulumi CLI through this package's provider plugin
 * (`provider/plugin/`, reached by the program's `plugins.providers` path) against a real
 * PostgreSQL server where only the managing user and the group role exist. The steps are
 * test/support/pluginProgram.ts's, shared with the other languages' examples; the YAML language
 * host `pulumi-language-yaml` comes from scripts/ensure-pulumi.sh `--languages yaml`. A YAML
 * program needs no SDK: the plugin's folder in its Pulumi.yaml is all it installs.
 */
import { describePluginProgram } from "../support/pluginProgram";

describePluginProgram("examples/yaml with the real Pulumi CLI and the provider plugin", {
  example: "yaml",
  language: "yaml",
  userPrefix: "yaml_user",
});
