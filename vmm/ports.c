/* ports.c: the port-I/O devices a PVH-booted kernel expects: an 8250 UART
 * at 0x3f8 (transmit only; the line status says "ready"), the debug
 * console at 0xe9 (lines to stderr) and QEMU's debug-exit port at 0x501
 * (here the value written is the exit status as is). */
#include "vmm.h"

#include <fresco/abi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_IDLE 0x60 /* transmitter empty, holding register empty */
#define DEBUGCON_MAX 256

static char debugcon[DEBUGCON_MAX];
static size_t debugcon_len;

void pio_handle(struct vm *vm, uint16_t port, int is_out, uint8_t *data,
		int size)
{
	if (!is_out) {
		memset(data, 0xff, (size_t)size);
		if (port == FRESCO_PVH_SERIAL_PORT + UART_LSR)
			data[0] = UART_LSR_IDLE;
		return;
	}
	if (port == FRESCO_PVH_SERIAL_PORT + UART_THR) {
		fwrite(data, 1, 1, stdout);
		if (data[0] == '\n')
			fflush(stdout);
	} else if (port == FRESCO_PVH_DEBUGCON_PORT) {
		if (data[0] == '\n' || debugcon_len == DEBUGCON_MAX) {
			print_guest_text("fresco: ", debugcon, debugcon_len);
			debugcon_len = 0;
		}
		if (data[0] != '\n')
			debugcon[debugcon_len++] = (char)data[0];
	} else if (port == FRESCO_PVH_EXIT_PORT) {
		vm->ended = 1;
		vm->status = data[0];
	}
}
