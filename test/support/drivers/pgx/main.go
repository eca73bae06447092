// pgx-login: logs in with pgx (github.com/jackc/pgx/v5, a PostgreSQL client written in Go that
// shares no code with libpq or node-postgres) and prints the session's user. The connection
// comes from libpq's environment variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD,
// PGSSLMODE), so no password is ever on a command line. Exit status 1 and one line on stderr,
// pgx's error, when the login fails.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer conn.Close(ctx)
	var user string
	if err := conn.QueryRow(ctx, "SELECT current_user::text").Scan(&user); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(user)
}
