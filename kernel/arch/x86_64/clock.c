/* clock.c: time, read without entering ring 0.
 *
 * Under KVM the clock is kvmclock: boot0 registers a pvclock structure
 * that KVM keeps current, and any-privilege code reads it with rdtsc
 * (native at CPL 3, 20 ns). Without kvmclock (QEMU TCG) the TSC is used
 * directly, its rate measured once against the PIT. Sleeping arms the
 * LAPIC TSC-deadline timer and halts through the gate; short waits spin.
 */
#include "kernel.h"
#include "arch/x86_64/x86.h"

#define NSEC_PER_SEC 1000000000ULL
#define PIT_HZ 1193182ULL
#define PIT_CALIBRATE_MS 10
/* below this a halt costs more than it saves (KVM-HERE: ~45 us wake-up) */
#define SPIN_NS 100000ULL

struct pvclock_time {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags, pad[2];
} __attribute__((packed));

struct pvclock_wall {
	uint32_t version, sec, nsec;
};

static struct pvclock_time pvclock __attribute__((aligned(64)));
static struct pvclock_wall pvwall __attribute__((aligned(64)));
static uint64_t tsc_at_boot;
static uint64_t realtime_at_boot_ns;

/* Measure the TSC against PIT channel 2 (the classic calibration). */
static RING0 uint64_t pit_tsc_khz(void)
{
	uint64_t latch = PIT_HZ * PIT_CALIBRATE_MS / 1000, t0, t1;
	uint8_t p61 = inb(0x61);

	outb(0x61, (p61 & ~0x02) | 0x01); /* gate on, speaker off */
	outb(0x43, 0xb0);                 /* channel 2, mode 0, lo/hi */
	outb(0x42, latch & 0xff);
	outb(0x42, latch >> 8);
	t0 = rdtsc();
	while (!(inb(0x61) & 0x20)) /* only without kvmclock: never under PVM */
		;
	t1 = rdtsc();
	return (t1 - t0) / PIT_CALIBRATE_MS;
}

RING0 void clock_boot0(void)
{
	tsc_at_boot = rdtsc();
	if (boot.kvmclock) {
		wrmsr(MSR_KVM_SYSTEM_TIME_NEW, virt_to_phys(&pvclock) | 1);
		wrmsr(MSR_KVM_WALL_CLOCK_NEW, virt_to_phys(&pvwall));
		return;
	}
	if (!boot.tsc_khz)
		boot.tsc_khz = pit_tsc_khz();
}

static uint64_t pvclock_ns(void)
{
	uint32_t v;
	uint64_t ns;

	do {
		v = __atomic_load_n(&pvclock.version, __ATOMIC_ACQUIRE);
		uint64_t delta = rdtsc() - pvclock.tsc_timestamp;
		if (pvclock.tsc_shift >= 0)
			delta <<= pvclock.tsc_shift;
		else
			delta >>= -pvclock.tsc_shift;
		ns = pvclock.system_time +
		     (uint64_t)(((unsigned __int128)delta *
				 pvclock.tsc_to_system_mul) >> 32);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((v & 1) ||
		 v != __atomic_load_n(&pvclock.version, __ATOMIC_RELAXED));
	return ns;
}

/* 32.32 fixed-point factors between TSC ticks and ns, set by clock_init */
static uint64_t ns_per_tick, ticks_per_ns;

static uint64_t tsc_to_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * ns_per_tick) >> 32);
}

static uint64_t ns_to_tsc(uint64_t ns)
{
	return (uint64_t)(((unsigned __int128)ns * ticks_per_ns) >> 32);
}

void clock_init(void)
{
	if (boot.kvmclock) {
		uint32_t v;
		do {
			v = __atomic_load_n(&pvwall.version, __ATOMIC_ACQUIRE);
			realtime_at_boot_ns =
				pvwall.sec * NSEC_PER_SEC + pvwall.nsec;
		} while ((v & 1) || v != pvwall.version);
		if (!boot.tsc_khz && pvclock.tsc_to_system_mul) {
			/* invert the pvclock scale: ns = ticks * mul >> (32 - shift) */
			uint64_t f = (1000000ULL << 32) / pvclock.tsc_to_system_mul;
			boot.tsc_khz = pvclock.tsc_shift >= 0 ?
					       f >> pvclock.tsc_shift :
					       f << -pvclock.tsc_shift;
		}
	}
	if (!boot.tsc_khz) {
		klog("no clock source could be calibrated; "
		     "time runs at an assumed 1 GHz");
		boot.tsc_khz = 1000000;
	}
	ns_per_tick = (1000000ULL << 32) / boot.tsc_khz;
	ticks_per_ns = (boot.tsc_khz << 32) / 1000000;
}

uint64_t clock_monotonic_ns(void)
{
	if (boot.kvmclock)
		return pvclock_ns();
	return tsc_to_ns(rdtsc() - tsc_at_boot);
}

uint64_t clock_realtime_ns(void)
{
	/* kvmclock's wall clock is the time at system_time 0 */
	return realtime_at_boot_ns + clock_monotonic_ns();
}

void clock_sleep_until(uint64_t deadline)
{
	uint64_t now;

	while ((now = clock_monotonic_ns()) < deadline) {
		uint64_t left = deadline - now;
		if (boot.tsc_deadline && left > SPIN_NS)
			gate_call(GATE_IDLE, (long)(rdtsc() + ns_to_tsc(left)),
				  0, 0);
		else
			cpu_relax();
	}
}
