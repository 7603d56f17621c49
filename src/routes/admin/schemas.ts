/** JSON schemas shared by the admin routes (request validation and the OpenAPI document). */
export const tags = ['admin'];
// Typed as @fastify/swagger's FastifySchema.security expects (an index signature, not a union of object literals).
export const security: Record<string, string[]>[] = [{ basicAuth: [] }, { bearerAuth: [] }];

export const errorResponse = {
  type: 'object',
  properties: {
    title: { type: 'string' },
    description: { type: 'string' },
    error_id: { type: 'string' },
    http_status: { type: 'string' },
    details: { type: 'object', additionalProperties: true },
  },
};

export const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

export const idParam = (name: string, description: string) => ({
  type: 'object',
  required: [name],
  properties: { [name]: { type: 'string', minLength: 1, maxLength: 300, description } },
});

export const uuid = { type: 'string', format: 'uuid' };
export const tlpLevel = { enum: ['clear', 'white', 'green', 'amber', 'amber+strict', 'red'] };
export const stixId = { type: 'string', pattern: '^[a-z][a-z0-9-]+[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' };
export const anyObject = { type: 'object', additionalProperties: true };
export const anyList = { type: 'array', items: anyObject };
