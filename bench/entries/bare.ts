/** An empty handler: what a Node.js process costs to start and answer once, the cold-start baseline. */
export async function handler(): Promise<{ statusCode: number; body: string }> {
  return { statusCode: 200, body: '{}' };
}
