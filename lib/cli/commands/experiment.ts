export const EXPERIMENT_HELP = 'todo';
export async function experiment(_argv: string[]): Promise<number> { return 0; }
