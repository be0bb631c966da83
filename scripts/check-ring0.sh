#!/bin/sh
# check-ring0.sh: refuse a kernel with instructions that kill the VM when
# run in ring 0 under kvm_pvm (../shared/KVM-HERE.md, "PASS / FAIL"): SSE
# and AVX, x87 arithmetic, xsave/xrstor/xgetbv, popcnt/lzcnt/tzcnt and BMI,
# cmpxchg16b, int n/int3, vmcall/vmmcall, rdtscp, lar/lsl/verr/verw,
# stac/clac, monitor/mwait, movbe, rdpid, clwb/clzero, invpcid, sysenter.
# The whole kernel is checked, since any-privilege code runs in ring 0 on
# hardware KVM, plus: no rep string instruction in the ring-0 section.
set -e
k="$1"
bad='(%[xyz]mm[0-9]|\b(f(add|sub|mul|div|ld|st|ild|ist|sqrt|com|ucom)[a-z]*|xsave[a-z0-9]*|xrstor[a-z0-9]*|xgetbv|popcnt|lzcnt|tzcnt|andn|bextr|blsi|blsmsk|blsr|bzhi|pdep|pext|sarx|shlx|shrx|rorx|mulx|adcx|adox|cmpxchg16b|int3?|vmcall|vmmcall|rdtscp|lar|lsl|verr|verw|stac|clac|monitor|mwait|movbe|rdpid|clwb|clzero|invpcid|sysenter)\b)'
# One exemption: xsave/xrstor in .text.xsave, used only by the signal
# path; under kvm_pvm that runs at CPL 3, where they are native, and ring 0
# on hardware KVM or TCG runs them normally.
xs=$(nm "$k" | awk '$3 == "__xsave_start" { print $1 }')
xe=$(nm "$k" | awk '$3 == "__xsave_end" { print $1 }')
found=$(objdump -d --no-show-raw-insn "$k" | grep -P "^\s+[0-9a-f]+:\s+$bad" |
	awk -v s="$xs" -v e="$xe" '{
		a = $1; sub(":", "", a)
		a = sprintf("%016s", a); gsub(" ", "0", a)
		if (!(length(s) && a >= s && a < e && $2 ~ /^(xsave|xrstor)/))
			print
	}' || true)
if [ -n "$found" ]; then
	echo "check-ring0: $k has instructions that kill a kvm_pvm guest in ring 0:" >&2
	echo "$found" | head -20 >&2
	exit 1
fi
start=$(nm "$k" | awk '$3 == "__ring0_start" { print $1 }')
end=$(nm "$k" | awk '$3 == "__ring0_end" { print $1 }')
rep=$(objdump -d --no-show-raw-insn --start-address=0x$start \
	--stop-address=0x$end "$k" | grep -P '^\s+[0-9a-f]+:\s+rep' || true)
if [ -n "$rep" ]; then
	echo "check-ring0: $k has rep string instructions in ring-0 code (1.2 MB/s there):" >&2
	echo "$rep" | head -5 >&2
	exit 1
fi
