// A plugin needs only the SDK module.
module github.com/hookhub/hookhub/examples/plugin

go 1.26.8

require github.com/hookhub/hookhub/sdk v0.0.0

// Inside this repository the SDK is a folder here. In your own plugin, drop
// this replace and require a released version instead:
//
//	go get github.com/hookhub/hookhub/sdk@latest
replace github.com/hookhub/hookhub/sdk => ../../sdk
