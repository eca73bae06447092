// Command gen-sdk-dotnet writes the .NET SDK of a Pulumi package from its schema.json, with the
// .NET code generator of github.com/pulumi/pulumi/pkg/v3 v3.228.0, the last version that has it
// (later ones moved it to the .NET language host, whose Go module the Go module proxy does not
// serve), and without running any plugin or language host:
//
//	go run . -schema provider/plugin/schema.json -out sdk
//
// writes <out>/dotnet (a C# project: its name and namespace come from the schema's
// language.csharp section, else Pulumi.<Name>), replaced whole. It is a module of its own, beside
// scripts/gen-sdk (the Python and Go SDKs, at the CLI's version), because the two need different
// versions of pkg/v3. Like that one, it refuses a schema that refers to other packages, and it
// reaches no network: the generator downloads the package's icon (logo.png, the NuGet package's
// PackageIcon) from the schema's logoUrl or else from Pulumi's repository; this one answers the
// latter with logo.png beside this file and refuses a schema with a logoUrl.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/blang/semver"
	dotnetgen "github.com/pulumi/pulumi/pkg/v3/codegen/dotnet"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// tool is the generator's name written into the generated files' headers.
const tool = "pulumi-postgres-rotator gen-sdk"

// defaultLogoURL is where pkg/v3 v3.228.0's .NET generator downloads the icon of a package whose
// schema has no logoUrl (codegen/dotnet's getLogo).
const defaultLogoURL = "https://raw.githubusercontent.com/pulumi/pulumi/" +
	"dbc96206bec722b7791a22ff50e895ab7c0abdc0/sdk/dotnet/pulumi_logo_64x64.png"

// logo is the package's icon: 64×64, two arrows taking turns.
//
//go:embed logo.png
var logo []byte

// offline is the HTTP transport of the generator: the default logo from logo.png, nothing else.
type offline struct{}

func (offline) RoundTrip(request *http.Request) (*http.Response, error) {
	if request.Method != http.MethodGet || request.URL.String() != defaultLogoURL {
		return nil, fmt.Errorf("gen-sdk downloads nothing (%s %s)", request.Method, request.URL)
	}
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"image/png"}},
		Body:          io.NopCloser(bytes.NewReader(logo)),
		ContentLength: int64(len(logo)),
		Request:       request,
	}, nil
}

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

// bind reads and binds the schema, packable as scripts/gen-sdk binds it (the SDK carries the
// package's version and its pulumi-plugin.json).
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
	if spec.LogoURL != "" {
		return nil, fmt.Errorf("%s has a logoUrl: gen-sdk downloads nothing (the .NET SDK's icon is scripts/gen-sdk/dotnet/logo.png)", path)
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
	files, err := dotnetgen.GeneratePackage(tool, pkg, nil, nil)
	if err != nil {
		return fmt.Errorf("generating the .NET SDK: %w", err)
	}
	return write(filepath.Join(out, "dotnet"), files)
}

func main() {
	schemaPath := flag.String("schema", "provider/plugin/schema.json", "the package's schema.json")
	out := flag.String("out", "sdk", "where to write dotnet/")
	flag.Parse()
	http.DefaultTransport = offline{}
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
