;; What AssemblyScript's default build gives: a plugin that imports env.abort,
;; which the host does not provide. It must fail to load with one error.
(module
  (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "hookhub_abi_version") (result i32) (i32.const 1))
  (func (export "hookhub_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "hookhub_transform") (param i32 i32) (result i64)
    (call $abort (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (i64.const 0)))
