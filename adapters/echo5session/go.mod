module github.com/sessionkit/sessionkit/adapters/echo5session

go 1.26.0

require (
	github.com/labstack/echo/v5 v5.4.6
	github.com/sessionkit/sessionkit v0.0.0
)

require (
	go.etcd.io/bbolt v1.5.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

replace github.com/sessionkit/sessionkit => ../..
