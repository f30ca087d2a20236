package main

import "github.com/hookhub/hookhub/sdk/plugin"

func init() { plugin.Handle(Transform) }

func main() {}
