;; A plugin without memory and hookhub_alloc exported, and a transform of the
;; wrong type.
(module
  (memory 1)
  (func (export "hookhub_abi_version") (result i32) (i32.const 1))
  (func (export "hookhub_transform") (param i32 i32) (result i32) (i32.const 0)))
