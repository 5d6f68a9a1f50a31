// Foreground services (`rkt metadata-service`, `rkt cri`) run until SIGINT or SIGTERM. Arm this before
// listening, so a signal during start-up still stops the service cleanly.
export function waitForStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
