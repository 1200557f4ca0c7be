/**
 * A Slack user counts as an approver only through an explicit binding: workspace + Slack user id
 * to the identity provider's subject, e-mail and groups, with the time the groups were confirmed.
 */
export interface SlackBinding {
  teamId: string;
  userId: string;
  subject: string;
  email?: string;
  groups: string[];
  /** when the identity provider last confirmed the groups (ms since the epoch) */
  groupsVerifiedAt: number;
  /** where the binding came from */
  source: 'config' | 'link' | 'email';
  /** when the person last signed in at the identity provider (ID token auth_time, ms); link bindings only */
  authTime?: number;
}

/** Where bindings made by /vecgate-link are kept. One binding per workspace + user. */
export interface BindingStore {
  get(teamId: string, userId: string): Promise<SlackBinding | undefined>;
  /** creates or replaces the binding of binding.teamId + binding.userId */
  put(binding: SlackBinding): Promise<void>;
  remove(teamId: string, userId: string): Promise<void>;
}

export function createMemoryBindingStore(initial: SlackBinding[] = []): BindingStore {
  const key = (teamId: string, userId: string) => `${teamId}\u0000${userId}`;
  const bindings = new Map(initial.map((b) => [key(b.teamId, b.userId), { ...b }]));
  return {
    get: (teamId, userId) => {
      const found = bindings.get(key(teamId, userId));
      return Promise.resolve(found ? { ...found, groups: [...found.groups] } : undefined);
    },
    put: (binding) => {
      bindings.set(key(binding.teamId, binding.userId), { ...binding, groups: [...binding.groups] });
      return Promise.resolve();
    },
    remove: (teamId, userId) => {
      bindings.delete(key(teamId, userId));
      return Promise.resolve();
    },
  };
}
