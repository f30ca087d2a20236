// publish is a module of its own because it needs nats.go; the rest of the
// SDK is standard library only.
module github.com/hookhub/hookhub/sdk/publish

go 1.26.8

require (
	github.com/hookhub/hookhub/sdk v0.0.0
	github.com/nats-io/nats.go v1.55.0
)

require (
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/nats-io/nkeys v0.4.16 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

// Inside this repository the SDK is the folder beside this one. Outside it
// (your own module), drop this line and require a released sdk version.
replace github.com/hookhub/hookhub/sdk => ../
