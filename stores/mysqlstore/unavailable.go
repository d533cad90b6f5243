package mysqlstore

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/go-sql-driver/mysql"
)

// unavailable reports whether err means the server cannot serve now but may
// soon: it is shutting down (error 1053), out of connections (1040), killed
// this connection (MariaDB's 1927, MySQL's 3169) or dropped it as idle
// (MySQL's 4031), or the connection failed (refused, reset, broken, or gone
// bad in the driver). An error the server gave for the statement itself (a
// missing table, a permission, a wrong password) is not.
func unavailable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1040, 1053, 1927, 3169, 4031:
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
