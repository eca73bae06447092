// Zero-downtime PostgreSQL password rotation (two users taking turns), compatible with Pulumi ESC's fn::rotate::postgres.
package postgresrotator
