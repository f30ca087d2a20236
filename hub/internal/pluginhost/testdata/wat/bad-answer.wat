;; A plugin whose answer breaks the ABI: four bytes that are not "HHO1".
(module
  (memory (export "memory") 1)
  (data (i32.const 16) "nope")
  (func (export "hookhub_abi_version") (result i32) (i32.const 1))
  (func (export "hookhub_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "hookhub_transform") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 4))))
