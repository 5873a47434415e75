/** Hubble UI's port (`cilium hubble ui` forwards 12000): `beeline ui`'s and the lab's default. */
export const UI_DEFAULT_PORT = 12000;
