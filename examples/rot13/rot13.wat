;; ROT13 (raw ABI, hand-written WebAssembly text): rotates ASCII letters by 13 places and
;; leaves every other byte as it is, so UTF-8 text stays valid; applying it twice gives the
;; input back. The output is the input buffer, rewritten in place.
(module
  (memory (export "memory") 1)
  ;; bump allocator from 1024 up: every call gets a fresh instance
  (global $next (mut i32) (i32.const 1024))

  (func (export "alloc") (param $len i32) (result i32)
    (local $ptr i32)
    (local $need i32)
    (local.set $ptr (global.get $next))
    (global.set $next (i32.add (local.get $ptr) (local.get $len)))
    ;; pages needed beyond what memory has, rounded up
    (local.set $need (i32.sub
      (i32.shr_u (i32.add (global.get $next) (i32.const 65535)) (i32.const 16))
      (memory.size)))
    (if (i32.gt_s (local.get $need) (i32.const 0))
      (then (drop (memory.grow (local.get $need)))))
    (local.get $ptr))

  (func (export "run") (param $ptr i32) (param $len i32) (result i64)
    (local $i i32)
    (local $c i32)
    (local $base i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $c (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        ;; 'A'..'Z' rotate from 65, 'a'..'z' from 97 (c | 32 folds the case)
        (local.set $base (i32.const 0))
        (if (i32.lt_u (i32.sub (i32.or (local.get $c) (i32.const 32)) (i32.const 97)) (i32.const 26))
          (then (local.set $base (select (i32.const 97) (i32.const 65) (i32.ge_u (local.get $c) (i32.const 97))))))
        (if (local.get $base)
          (then (i32.store8
            (i32.add (local.get $ptr) (local.get $i))
            (i32.add (local.get $base)
              (i32.rem_u (i32.add (i32.sub (local.get $c) (local.get $base)) (i32.const 13)) (i32.const 26))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
      (i64.extend_i32_u (local.get $len))))
)
