// Command postgres-rotator-go is examples/yaml in Go: one RotatedPostgresCredentials, connecting
// directly (no connector, no ESC), from the Go SDK generated from the plugin's schema (sdk/go).
// Its configuration is declared, with defaults, in Pulumi.yaml.
package main

import (
	"example.com/pulumi-postgres-rotator/sdk/go/postgresrotator"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		db, err := postgresrotator.NewRotatedPostgresCredentials(ctx, "app-db",
			&postgresrotator.RotatedPostgresCredentialsArgs{
				Database: postgresrotator.CredentialsDatabaseArgs{
					Host:     pulumi.String(cfg.Require("host")),
					Port:     pulumi.Int(cfg.RequireInt("port")),
					Database: pulumi.String(cfg.Require("database")),
					ManagingUser: postgresrotator.CredentialArgs{
						Username: pulumi.String(cfg.Require("managingUser")),
						Password: cfg.RequireSecret("managingPassword"),
					},
					Ssl: postgresrotator.SslArgs{Mode: pulumi.String(cfg.Require("sslMode"))},
				},
				RotateUsers: postgresrotator.UserPairArgs{
					Username1: pulumi.String(cfg.Require("username1")),
					Username2: pulumi.String(cfg.Require("username2")),
				},
				MemberOf:        pulumi.StringArray{pulumi.String(cfg.Require("group"))},
				RotationTrigger: pulumi.String(cfg.Require("rotationTrigger")),
			})
		if err != nil {
			return err
		}
		ctx.Export("currentUsername", db.CurrentUsername)
		ctx.Export("rotatedAt", db.RotatedAt)
		// Secret {username, password}: pulumi stack output --show-secrets current
		ctx.Export("current", db.Current)
		// Secret {username, password} of the other user, valid until the next rotation.
		ctx.Export("previous", db.Previous)
		return nil
	})
}
