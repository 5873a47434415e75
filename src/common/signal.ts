/** Resolves on SIGTERM or SIGINT, holding the process open meanwhile: the end of every long-running command. */
export function untilSignal(): Promise<void> {
  const keepAlive = setInterval(() => undefined, 60_000);
  return new Promise<void>((resolve) => {
    const done = () => {
      clearInterval(keepAlive);
      resolve();
    };
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
}
