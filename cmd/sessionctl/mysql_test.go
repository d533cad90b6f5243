package main

import (
	"testing"

	"github.com/sessionkit/sessionkit/internal/mysqltest"
)

func TestCheckMySQLDeviations(t *testing.T) {
	db := mysqltest.DB(t, nil)
	table := mysqltest.Table(t)
	// express-mysql-session's own table: no index on expires.
	if _, err := db.Exec("CREATE TABLE `" + table + "` (session_id varchar(128) COLLATE utf8mb4_bin NOT NULL, expires int(11) unsigned NOT NULL, data mediumtext COLLATE utf8mb4_bin, PRIMARY KEY (session_id)) ENGINE=InnoDB"); err != nil {
		t.Fatal(err)
	}
	raw := mysqltest.URLWith("table=") + table
	want(t, 1, []string{"ok: connected to MySQL/MariaDB", "warning: no index on expires", "info: time_zone", "0 live sessions"}, "check", raw)

	// A table that is not there is reported, not created.
	absent := mysqltest.Table(t)
	want(t, 1, []string{"error: cannot open the store", "does not exist"}, "check", mysqltest.URLWith("create_table=true&table=")+absent)
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", absent).Scan(&n); err != nil || n != 0 {
		t.Errorf("check created the table (%d, %v)", n, err)
	}
}
