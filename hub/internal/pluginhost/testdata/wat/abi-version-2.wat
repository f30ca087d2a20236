;; A plugin built for an ABI version this hub does not speak.
(module
  (memory (export "memory") 1)
  (func (export "hookhub_abi_version") (result i32) (i32.const 2))
  (func (export "hookhub_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "hookhub_transform") (param i32 i32) (result i64) (i64.const 0)))
