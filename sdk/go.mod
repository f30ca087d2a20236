// The SDK is a module of its own, standard library only, so that a plugin or a
// receiver needs nothing else. Its version follows the plugin ABI: see
// abi.Version and the "Versions" section of README.md.
module github.com/hookhub/hookhub/sdk

go 1.26.8
