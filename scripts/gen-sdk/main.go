// Command gen-sdk writes the Python and Go SDKs of a Pulumi package from its schema.json, with
// the code generators of the Pulumi CLI's own version (github.com/pulumi/pulumi/pkg/v3), and
// without running any plugin or language host:
//
//	go run . -schema provider/plugin/schema.json -out sdk
//
// writes <out>/python (a pip-installable package) and <out>/go (a Go module: its go.mod comes
// from the schema's language.go.importBasePath). Each output directory is replaced whole.
// `pulumi package gen-sdk` cannot do this here: it asks the language host to generate, and the
// hosts that build from the Go module proxy (sdk v3.68.0) predate that call. The schema may not
// refer to other packages (no loader can fetch their schemas offline); one that does is refused.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	pygen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// tool is the generator's name written into the generated files' headers.
const tool = "pulumi-postgres-rotator gen-sdk"

// noExternalPackages is the loader BindSpec needs: the package stands alone, so any reference
// to another package's schema is an error rather than a download.
type noExternalPackages struct{}

func (noExternalPackages) refuse(name string) error {
	return fmt.Errorf("the schema refers to the package %q: gen-sdk generates only self-contained schemas", name)
}

func (l noExternalPackages) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, l.refuse(pkg)
}

func (l noExternalPackages) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, l.refuse(d.Name)
}

func (l noExternalPackages) LoadPackageReference(pkg string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, l.refuse(pkg)
}

func (l noExternalPackages) LoadPackageReferenceV2(
	_ context.Context, d *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return nil, l.refuse(d.Name)
}

// bind reads and binds the schema. Packable: every SDK carries its version and package metadata
// (pyproject/setup.py, pulumi-plugin.json, a go.mod), as `pulumi package gen-sdk` writes them
// for published packages.
func bind(path string) (*schema.Package, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(text, &spec); err != nil {
		return nil, fmt.Errorf("%s is not a package schema: %w", path, err)
	}
	if spec.Version == "" {
		return nil, fmt.Errorf("%s has no version: the SDKs carry the package's version", path)
	}
	if spec.Meta == nil {
		spec.Meta = &schema.MetadataSpec{}
	}
	spec.Meta.SupportPack = true
	pkg, diags, err := schema.BindSpec(spec, noExternalPackages{}, schema.ValidationOptions{})
	if err != nil {
		return nil, fmt.Errorf("binding %s: %w", path, err)
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s does not bind: %s", path, diags.Error())
	}
	return pkg, nil
}

// write replaces dir with exactly the files given, through a sibling scratch directory so that a
// failure leaves the previous SDK in place.
func write(dir string, files map[string][]byte) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	scratch, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		file := filepath.Join(scratch, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(file, files[name], 0o644); err != nil {
			return err
		}
	}
	if err := os.Chmod(scratch, 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(scratch, dir)
}

func generate(schemaPath, out string) error {
	pkg, err := bind(schemaPath)
	if err != nil {
		return err
	}
	python, err := pygen.GeneratePackage(tool, pkg, nil, noExternalPackages{})
	if err != nil {
		return fmt.Errorf("generating the Python SDK: %w", err)
	}
	if err := write(filepath.Join(out, "python"), python); err != nil {
		return err
	}
	// GeneratePackage imports each language's section into pkg; bind again for a clean package.
	if pkg, err = bind(schemaPath); err != nil {
		return err
	}
	golang, err := gogen.GeneratePackage(tool, pkg, nil)
	if err != nil {
		return fmt.Errorf("generating the Go SDK: %w", err)
	}
	return write(filepath.Join(out, "go"), golang)
}

func main() {
	schemaPath := flag.String("schema", "provider/plugin/schema.json", "the package's schema.json")
	out := flag.String("out", "sdk", "where to write python/ and go/")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "gen-sdk: unexpected arguments: %s\n", strings.Join(flag.Args(), " "))
		os.Exit(2)
	}
	if err := generate(*schemaPath, *out); err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) && errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "gen-sdk: %s does not exist\n", pathErr.Path)
		} else {
			fmt.Fprintf(os.Stderr, "gen-sdk: %v\n", err)
		}
		os.Exit(1)
	}
}
