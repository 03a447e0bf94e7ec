// SPDX-License-Identifier: MIT
/*
 * cdboot: \EFI\BOOT\BOOTX64.EFI of the installer CD of the nested install
 * test (tests/nested/cases/48-install.sh), the stand-in for Windows' CD
 * loader and its "Press any key to boot from CD or DVD". It starts GRUB
 * (\EFI\BOOT\grubx64.efi beside it), whose config decides: the installer,
 * or `exit` when the disk already holds the installed system.
 *
 * Why this exists: GRUB 2.06's `exit` (Debian's; the exit-code patch some
 * distributions carry is not in it) ends GRUB with EFI_SUCCESS, and a boot
 * option that returns EFI_SUCCESS makes EDK2's boot manager stop walking
 * BootOrder and open its Boot Manager Menu (MdeModulePkg BdsEntry.c,
 * BootBootOptions), which then waits for a key. Windows' loader returns an
 * error when no key is pressed, and the firmware goes on to the next boot
 * option: the disk. cdboot does the same with GRUB's exit: it returns
 * EFI_TIMEOUT, as Windows' does. Anything else GRUB returns is passed on.
 *
 * Built on L0 by tests/nested/install/images.sh with gnu-efi.
 */
#include <efi.h>
#include <efilib.h>

static CHAR16 grub_path[] = L"\\EFI\\BOOT\\grubx64.efi";

EFI_STATUS EFIAPI efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	EFI_LOADED_IMAGE *self;
	EFI_DEVICE_PATH *path;
	EFI_HANDLE grub;
	EFI_STATUS s;

	InitializeLib(image, systab);
	s = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
			      (VOID **)&self);
	if (EFI_ERROR(s))
		return s;
	path = FileDevicePath(self->DeviceHandle, grub_path);
	if (!path)
		return EFI_OUT_OF_RESOURCES;
	s = uefi_call_wrapper(BS->LoadImage, 6, FALSE, image, path, NULL, 0, &grub);
	FreePool(path);
	if (EFI_ERROR(s)) {
		Print(L"MINIVMM-CD: cannot load %s: %r\r\n", grub_path, s);
		return s;
	}
	s = uefi_call_wrapper(BS->StartImage, 3, grub, NULL, NULL);
	if (s != EFI_SUCCESS)
		return s;
	Print(L"MINIVMM-CD: not booting from the CD (GRUB exited): back to the firmware's next boot option\r\n");
	return EFI_TIMEOUT;
}
