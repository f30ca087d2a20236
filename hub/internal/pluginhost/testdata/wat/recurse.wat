;; A module whose transform recurses without end when its input is longer
;; than 40 bytes (an input with a webhook name), and answers an empty request otherwise. wazero grows a
;; call's stack up to about 100 MB before it gives up, outside the module's
;; memory cap: the host must stop it far sooner.
(module
  (memory (export "memory") 1)
  (func $down (param $n i64) (result i64)
    (i64.add (call $down (i64.add (local.get $n) (i64.const 1))) (i64.const 1)))
  (func (export "hookhub_abi_version") (result i32) (i32.const 1))
  (func (export "hookhub_alloc") (param i32) (result i32) (i32.const 1024))
  ;; The answer "HHO1", no skip, then empty content type, headers, query,
  ;; body: the ABI's encoding of an empty request (sdk/abi).
  (data (i32.const 16) "HHO1\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00")
  (func (export "hookhub_transform") (param $ptr i32) (param $len i32) (result i64)
    (if (i32.gt_u (local.get $len) (i32.const 40))
      (then (drop (call $down (i64.const 0)))))
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 21))))
